"""Precision that follows the hardware (:mod:`eofm.utils.precision`)."""
import pytest
import torch

from eofm.utils import precision as P


def _cpuinfo(tmp_path, flags):
    path = tmp_path / 'cpuinfo'
    path.write_text(''.join(f'processor\t: {k}\nflags\t\t: fpu sse2 avx2 {flags}\n\n'
                            for k in range(2)))
    return str(path)


def test_flags_are_read_from_cpuinfo(tmp_path):
    assert P.cpu_bf16_flags(_cpuinfo(tmp_path, 'avx512f')) == []
    assert P.cpu_bf16_flags(_cpuinfo(tmp_path, 'amx_tile amx_bf16 avx512_bf16')) == [
        'amx_bf16', 'avx512_bf16']
    arm = tmp_path / 'arm'
    arm.write_text('processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n')
    assert P.cpu_bf16_flags(str(arm)) == ['bf16']
    assert P.cpu_bf16_flags(str(tmp_path / 'missing')) is None


@pytest.mark.parametrize('units, expected', [(True, 'bf16'), (False, 'fp32')])
def test_auto_follows_the_cpu_units(monkeypatch, units, expected):
    monkeypatch.setattr(P, 'cpu_has_bf16_matrix_units', lambda: units)
    assert P.resolve_precision('auto', 'cpu') == expected
    assert P.resolve_precision('auto', 'cuda') == 'fp32'  # the stock GPU path
    assert P.resolve_precision('fp32', 'cpu') == 'fp32'
    assert P.resolve_precision('bf16', 'cpu') == 'bf16'


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="precision must be one of"):
        P.resolve_precision('half')
    with pytest.raises(ValueError, match='for GPUs'):
        P.resolve_precision('fp16', 'cpu')


def test_autocast_runs_matmuls_in_the_precision():
    a = torch.randn(8, 8)
    with P.autocast('bf16', 'cpu'):
        assert (a @ a).dtype == torch.bfloat16
    with P.autocast('fp32', 'cpu'):
        assert (a @ a).dtype == torch.float32
