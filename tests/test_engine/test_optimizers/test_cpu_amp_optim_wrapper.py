"""CPUAmpOptimWrapper (bf16 autocast training on the CPU) and ``--amp``'s mapping."""
import argparse

import pytest
import torch
from mmengine.config import Config

from eofm.engine.optimizers import CPUAmpOptimWrapper
from eofm.registry import OPTIM_WRAPPERS


class _Probe(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(8, 32), torch.nn.Linear(32, 3)
        self.dtypes = []

    def forward(self, x):
        h = self.fc1(x)
        self.dtypes.append(h.dtype)
        return self.fc2(torch.relu(h))


def _train(wrapper_cfg, steps=30):
    torch.manual_seed(0)
    model = _Probe()
    wrapper = OPTIM_WRAPPERS.build(
        dict(wrapper_cfg, optimizer=torch.optim.SGD(model.parameters(), lr=0.5)))
    x = torch.randn(64, 8)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    losses = []
    for _ in range(steps):
        with wrapper.optim_context(model):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        wrapper.update_params(loss)
        losses.append(loss.item())
    return model, losses


def test_bf16_autocast_inside_and_fp32_state_outside():
    model, losses = _train(dict(type='eofm.CPUAmpOptimWrapper'))
    assert set(model.dtypes) == {torch.bfloat16}  # the matmuls ran in bf16
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses[-1] < 0.7 * losses[0]
    ref_model, ref = _train(dict(type='OptimWrapper'))
    assert set(ref_model.dtypes) == {torch.float32}
    # bf16 keeps ~3 significant digits: the first losses agree to ~1e-2
    assert abs(losses[0] - ref[0]) < 2e-2 * ref[0]
    assert abs(losses[-1] - ref[-1]) < 0.1 * ref[0]


def test_dtype_other_than_bf16_is_refused():
    with pytest.raises(ValueError, match="dtype must be 'bfloat16'"):
        CPUAmpOptimWrapper(dtype='float16',
                           optimizer=torch.optim.SGD([torch.nn.Parameter(torch.ones(1))],
                                                     lr=1))


def _merge(monkeypatch, bf16, wrapper='OptimWrapper'):
    from eofm.apis import runner_setup
    from eofm.utils import precision
    monkeypatch.setattr(precision, 'cpu_has_bf16_matrix_units', lambda: bf16)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(optim_wrapper=dict(type=wrapper, optimizer=dict(type='SGD', lr=1))))
    args = argparse.Namespace(launcher='none', work_dir='wd', config='c.py', amp=True,
                              resume=None)
    return runner_setup.merge_train_args(cfg, args)


def test_amp_flag_on_cpu_follows_the_matrix_units(monkeypatch):
    cfg = _merge(monkeypatch, bf16=True)
    assert cfg.optim_wrapper.type == 'eofm.CPUAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    with pytest.warns(UserWarning, match='no bf16 matrix units'):
        cfg = _merge(monkeypatch, bf16=False)
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    with pytest.raises(ValueError, match="optim_wrapper.type OptimWrapper, the config has"):
        _merge(monkeypatch, bf16=True, wrapper='mmengine.ApexOptimWrapper')


def test_test_amp_flag_sets_the_test_loop_autocast(monkeypatch, tmp_path):
    from eofm.apis import runner_setup
    from eofm.utils import precision
    ckpt = tmp_path / 'c.pth'
    ckpt.write_bytes(b'')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    for bf16, expected in ((True, True), (False, None)):
        monkeypatch.setattr(precision, 'cpu_has_bf16_matrix_units', lambda: bf16)
        cfg = Config(dict(test_cfg=dict(type='TestLoop')))
        args = argparse.Namespace(launcher='none', work_dir='wd', config='c.py', amp=True,
                                  checkpoint=str(ckpt), show=False, show_dir=None,
                                  out=None, tta=False)
        if bf16:
            cfg = runner_setup.merge_test_args(cfg, args)
        else:
            with pytest.warns(UserWarning, match='testing runs in fp32'):
                cfg = runner_setup.merge_test_args(cfg, args)
        assert cfg.test_cfg.get('fp16') is expected
        assert cfg.test_cfg.type == 'TestLoop'
