"""mmengine checkpoints load under torch's weights_only default; writes are atomic."""
import collections
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from eofm.utils.checkpoint import atomic_write_bytes, load_checkpoint_safely


def _runner_like_checkpoint(path):
    hub = MessageHub.get_instance('eofm_test_ckpt')
    for v in (1.0, 0.5, 0.25):
        hub.update_scalar('train/loss', v)
    hub.update_info('iter', 3)
    ckpt = dict(
        meta=dict(seed=0, iter=3, np_value=np.float64(1.5), arr=np.arange(3)),
        state_dict=dict(w=torch.ones(2)),
        message_hub=hub.state_dict())
    torch.save(ckpt, path)
    return ckpt


def test_plain_torch_load_refuses_runner_checkpoint(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    _runner_like_checkpoint(path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)


def test_safe_loader_restores_runner_state(tmp_path):
    path = str(tmp_path / 'ckpt.pth')
    _runner_like_checkpoint(path)
    ckpt = load_checkpoint_safely(path)
    buf = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(1.75 / 3)
    assert buf.min() == pytest.approx(0.25)  # statistics methods survive
    assert ckpt['meta']['np_value'] == 1.5
    np.testing.assert_array_equal(ckpt['meta']['arr'], [0, 1, 2])
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(2))


def test_mmengine_checkpoint_loader_uses_safe_loader(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    path = str(tmp_path / 'ckpt.pth')
    _runner_like_checkpoint(path)
    ckpt = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert 'message_hub' in ckpt


class _Payload:
    """Pickles as getattr on a class torch allows (OrderedDict), not HistoryBuffer."""

    def __reduce__(self):
        return (getattr, (collections.OrderedDict, 'fromkeys'))


class _GetattrOnHistoryBuffer:

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.parametrize('payload', [_Payload(), _GetattrOnHistoryBuffer()])
def test_safe_loader_refuses_arbitrary_globals(tmp_path, payload):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': payload}, path)
    with pytest.raises(Exception, match='getattr'):
        load_checkpoint_safely(path)


def test_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_safely(str(tmp_path / 'nope.pth'))


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / 'ckpt.pth'
    path.write_bytes(b'old')

    with pytest.raises(TypeError):
        atomic_write_bytes(object(), str(path))  # fails inside the write
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['ckpt.pth']  # no temporary file left behind
    atomic_write_bytes(b'new', str(path))
    assert path.read_bytes() == b'new'


def test_mmengine_local_backend_writes_atomically(tmp_path):
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(str(tmp_path))
    target = tmp_path / 'sub' / 'last_checkpoint'
    backend.put_text('a/b.pth', str(target))
    assert target.read_text() == 'a/b.pth'
    assert getattr(type(backend).put, '_eofm_atomic', False)
