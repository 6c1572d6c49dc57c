"""Checkpoints load strictly (load_from, --resume, init_cfg Pretrained) with the
exceptions each model declares; bad files and pointers name their path; killed
writes leave nothing that survives the next start."""
import logging
import os
import types

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import checkpoint_hook
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.runner import Runner
from mmengine.runner.checkpoint import save_checkpoint

from eofm.apis.runner_setup import remove_stale_checkpoint_writes
from eofm.models import SkySense
from eofm.models.msgfm.backbone import MsGFMSwin
from eofm.utils.checkpoint import (CheckpointFileError, CheckpointMismatchError,
                                   find_latest_checkpoint, load_checkpoint_safely,
                                   save_checkpoint_atomically)


class _Stub:
    """What ``Runner.load_checkpoint`` uses of a runner (``load_from``, ``--resume``)."""

    def __init__(self, model, **cfg):
        self.model, self.cfg = model, Config(cfg)
        self.logger = MMLogger.get_current_instance()
        self.hook_calls = []

    def call_hook(self, name, **kwargs):
        self.hook_calls.append(name)


def _load_from(model, path, **cfg):
    return Runner.load_checkpoint(_Stub(model, **cfg), str(path))


def _skysense(seed=0):
    torch.manual_seed(seed)
    return SkySense('tiny', up_head=dict(scale=1))


@pytest.fixture
def warnings_of_mmengine():
    """Warnings mmengine's logger writes while the test runs."""
    records = []

    class Keep(logging.Handler):

        def emit(self, record):
            if record.levelno >= logging.WARNING:
                records.append(record.getMessage())

    handler = Keep()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_msgfm_weights_into_skysense_fail_naming_keys(tmp_path):
    msgfm = MsGFMSwin(arch='tiny', sensors=dict(rgb=3, s2=13), img_size=32,
                      window_size=4)
    path = tmp_path / 'msgfm.pth'
    save_checkpoint(dict(state_dict=msgfm.state_dict()), str(path))
    model = _skysense()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as e:
        _load_from(model, path)
    msg = str(e.value)
    n_own = len([k for k in model.state_dict() if ".relative_" not in k])  # declared
    assert f'SkySense: {path} does not fit this model' in msg
    assert f'({n_own} missing, {len(msgfm.state_dict())} unexpected' in msg
    assert f'missing: [' in msg and f'] (first 5 of {n_own})' in msg
    assert "'patch_embed.rgb.projection.weight'" in msg  # an msGFM key, named
    assert 'load_strict=False' in msg  # the way out is named
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_mis_shaped_weight_names_key_and_both_shapes(tmp_path):
    state = _skysense(1).state_dict()
    key = 'fusion.porj_linear.weight'
    good = state[key]
    state[key] = good[:, :-1].clone()
    path = tmp_path / 'shaped.pth'
    save_checkpoint(dict(state_dict=state), str(path))
    with pytest.raises(CheckpointMismatchError) as e:
        _load_from(_skysense(), path)
    assert (f'{key}: checkpoint {tuple(state[key].shape)}, model {tuple(good.shape)}'
            in str(e.value))
    assert '0 missing, 0 unexpected, 1 mis-shaped keys' in str(e.value)


def test_skysense_checkpoint_without_rebuilt_buffers_loads_silently(
        tmp_path, warnings_of_mmengine):
    src = _skysense(1)
    state = {k: v for k, v in src.state_dict().items() if '.relative_' not in k}
    path = tmp_path / 'release_like.pth'
    save_checkpoint(dict(state_dict={'module.' + k: v for k, v in state.items()}),
                    str(path))
    dst = _skysense(2)
    stub = _Stub(dst)
    warnings_of_mmengine.clear()  # (mmengine's save warns of its FileClient)
    Runner.load_checkpoint(stub, str(path))
    assert stub.hook_calls == ['after_load_checkpoint']
    for k, v in dst.state_dict().items():
        assert torch.equal(v, src.state_dict()[k]), k
    assert warnings_of_mmengine == []  # the declared exceptions are silent


def test_load_strict_false_restores_the_warning(tmp_path, capsys):
    src = _skysense(1)
    state = src.state_dict()
    state.pop('fusion.porj_linear.bias')
    path = tmp_path / 'partial.pth'
    save_checkpoint(dict(state_dict=state), str(path))
    dst = _skysense(2)
    with pytest.raises(CheckpointMismatchError, match=r"\['fusion.porj_linear.bias'\]"):
        _load_from(dst, path)
    capsys.readouterr()
    _load_from(dst, path, load_strict=False)
    assert torch.equal(dst.fusion.porj_linear.weight, src.fusion.porj_linear.weight)
    out = capsys.readouterr().out  # mmengine prints its warning
    assert 'do not match exactly' in out and 'fusion.porj_linear.bias' in out


class _Net(BaseModule):

    def __init__(self, width=4, init_cfg=None):
        super().__init__(init_cfg)
        self.fc = nn.Linear(width, 2)


@pytest.mark.parametrize('prefix', [None, 'backbone.'])
def test_init_cfg_pretrained_is_strict_with_an_opt_out(tmp_path, prefix):
    path = str(tmp_path / 'wide.pth')
    src = _Net(width=5).state_dict()
    if prefix:
        src = {prefix + k: v for k, v in src.items()}
    torch.save(dict(state_dict=src), path)
    cfg = dict(type='Pretrained', checkpoint=path, prefix=prefix)
    net = _Net(init_cfg=cfg)
    with pytest.raises(CheckpointMismatchError, match=r'fc.weight: checkpoint '
                       r'\(2, 5\), model \(2, 4\)'):
        net.init_weights()
    net = _Net(init_cfg=dict(cfg, strict=False))
    net.init_weights()  # mmengine's behaviour: the weight stays as initialised
    ok = _Net(width=4)
    torch.save(dict(state_dict={(prefix or '') + k: v
                                for k, v in ok.state_dict().items()}), path)
    net = _Net(init_cfg=cfg)
    net.init_weights()
    assert torch.equal(net.fc.weight, ok.fc.weight)


@pytest.mark.parametrize('size', [0, 'half'])
def test_empty_or_truncated_checkpoint_names_its_path(tmp_path, size):
    path = tmp_path / 'iter_4.pth'
    save_checkpoint_atomically(dict(state_dict=dict(w=torch.ones(1000))), str(path))
    data = path.read_bytes()
    path.write_bytes(b'' if size == 0 else data[:len(data) // 2])
    with pytest.raises(CheckpointFileError, match=str(path)):
        load_checkpoint_safely(str(path))


def test_last_checkpoint_pointer_empty_or_dangling_names_its_path(tmp_path):
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('')
    with pytest.raises(CheckpointFileError, match=f'{pointer} is empty'):
        find_latest_checkpoint(str(tmp_path))
    pointer.write_text(str(tmp_path / 'iter_9.pth'))
    with pytest.raises(CheckpointFileError,
                       match=f'{pointer} points to {tmp_path / "iter_9.pth"}'):
        find_latest_checkpoint(str(tmp_path))
    import mmengine.runner.runner as runner_module
    assert runner_module.find_latest_checkpoint is find_latest_checkpoint  # --resume
    (tmp_path / 'iter_9.pth').write_bytes(b'x')
    assert find_latest_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_9.pth')


def test_checkpoint_hook_writes_last_checkpoint_atomically(tmp_path):
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text('iter_2.pth')
    # CheckpointHook._save_checkpoint writes the pointer with `open` of its module
    with pytest.raises(KeyboardInterrupt):
        with checkpoint_hook.open(str(pointer), 'w') as f:
            f.write('iter_')
            raise KeyboardInterrupt  # killed in the middle of the write
    assert pointer.read_text() == 'iter_2.pth'
    assert os.listdir(tmp_path) == ['last_checkpoint']
    with checkpoint_hook.open(str(pointer), 'w') as f:
        f.write('iter_4.pth')
    assert pointer.read_text() == 'iter_4.pth'


def test_stale_temp_files_of_killed_writes_are_removed_at_start(tmp_path):
    target = tmp_path / 'iter_4.pth'
    seen = []

    class Spy:

        def __reduce__(self):
            seen.extend(os.listdir(tmp_path))  # the temporary file, mid-write
            return (int, (1, ))

    save_checkpoint_atomically(dict(x=Spy()), str(target))
    (temp, ) = seen
    # what a kill -9 during the write leaves: the partial temporary file
    (tmp_path / temp).write_bytes(b'partial')
    keep = ['.iter_4.pth.user-notes', 'iter_4.pth', '.hidden.eofm-tmp']
    for name in keep[:1] + keep[2:]:
        (tmp_path / name).write_bytes(b'not ours')
    runner = types.SimpleNamespace(
        rank=0, work_dir=str(tmp_path), cfg=Config(dict(default_hooks=dict())))
    assert remove_stale_checkpoint_writes(runner) == [str(tmp_path / temp)]
    assert sorted(os.listdir(tmp_path)) == sorted(keep)
