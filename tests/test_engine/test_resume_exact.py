"""``--resume`` continues exactly as the uninterrupted run with per-rank seeds
(``randomness.diff_rank_seed=True``): on 1 process in a runner, and on 2 gloo
processes after ``kill -9`` at an iteration and during a checkpoint write."""
import glob
import json
import os
import os.path as osp
import random
import socket
import subprocess
import uuid

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from eofm.datasets.sample_data import generate
from eofm.utils.checkpoint import load_checkpoint_safely

# runner-based and multi-process runs: not in the fast tier
pytestmark = pytest.mark.slow

PRETRAIN = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'


# ------------------------------------------------------------ one process, a runner
class _Augmented(Dataset):
    """Eight samples augmented with numpy and ``random`` draws (a pipeline that runs
    in the main process with ``num_workers=0``)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        x = torch.full((4, ), i / 8) + float(np.random.rand()) + random.random()
        return dict(inputs=x)


class _Noisy(BaseModel):
    """A model that draws from torch, numpy and ``random`` in every step."""

    def __init__(self, losses):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.losses = losses

    def forward(self, inputs, data_samples=None, mode='loss'):
        target = torch.rand(1) + float(np.random.rand()) + random.random()
        out = self.fc(nn.functional.dropout(inputs, 0.5, self.training))
        loss = ((out - target)**2).mean()
        self.losses.append(loss.item())
        return dict(loss=loss)


def _run_toy(work_dir, seed, resume_from=None):
    torch.manual_seed(0)
    losses = []
    runner = Runner(
        model=_Noisy(losses),
        work_dir=str(work_dir),
        experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=_Augmented(),
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05)),
        train_cfg=dict(by_epoch=False, max_iters=6),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3)),
        custom_hooks=[dict(type='eofm.ExactResumeHook')],
        randomness=dict(seed=seed, diff_rank_seed=True),
        resume=resume_from is not None,
        load_from=resume_from,
        default_scope='mmengine')
    runner.train()
    return losses, runner.model.state_dict()


@pytest.mark.parametrize('seed', [0, None])
def test_resume_restores_numpy_random_and_sampler_state(tmp_path, seed):
    full, weights = _run_toy(tmp_path / 'full', seed)
    again, resumed = _run_toy(tmp_path / 'resumed', seed,
                              str(tmp_path / 'full' / 'iter_3.pth'))
    assert len(full) == 6 and len(again) == 3
    assert again == full[3:]  # bit-identical
    for k, v in weights.items():
        assert torch.equal(resumed[k], v), k


# ------------------------------------------------- two processes, kill -9, --resume
KILLER = '''
"""Kills this process (SIGKILL) at an iteration or in a checkpoint write."""
import os
import signal

from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from eofm.utils import checkpoint

_AT_ITER = int(os.environ.get('KILL_AT_ITER', 0))
_IN_WRITE = os.environ.get('KILL_IN_WRITE')
_put = LocalBackend.put


def _put_then_die(self, obj, filepath):
    if _IN_WRITE and os.path.basename(str(filepath)) == _IN_WRITE:
        with checkpoint._atomic_file(str(filepath)) as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    return _put(self, obj, filepath)


LocalBackend.put = _put_then_die


@HOOKS.register_module()
class KillHook(Hook):

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        # rank 0, once its checkpoint of the iteration before is written; the
        # launcher then stops the other rank
        if runner.iter + 1 == _AT_ITER and runner.rank == 0:
            os.kill(os.getpid(), signal.SIGKILL)
'''


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _losses_by_run(work_dir):
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            runs.append({r['step']: r['loss'] for r in map(json.loads, f) if 'loss' in r})
    return runs


@pytest.fixture(scope='module')
def pretrain_setup(tmp_path_factory, repo_root):
    root = tmp_path_factory.mktemp('r19')
    generate(str(root / 'data'), num_tiles=8, size=32, hr_factor=8, seed=0)
    (root / 'kill_switch.py').write_text(KILLER)
    config = root / 'pretrain_6it.py'
    config.write_text(f'''
_base_ = [{osp.join(repo_root, PRETRAIN)!r}]
custom_imports = dict(imports=['eofm', 'kill_switch'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(data_root={str(root / 'data')!r}))
train_cfg = dict(max_iters=6)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=2, max_keep_ckpts=10))
custom_hooks = [dict(type='eofm.TeacherEMAHook'), dict(type='KillHook')]
''')
    return root, str(config)


def _dist_train(repo_root, env, config, work_dir, *args, **kill):
    env = dict(env, PORT=str(_free_port()), **{k: str(v) for k, v in kill.items()})
    env['PYTHONPATH'] = env['PYTHONPATH'] + os.pathsep + osp.dirname(config)
    return subprocess.run(
        ['bash', 'tools/dist_train.sh', config, '2', '--work-dir', str(work_dir), *args],
        cwd=repo_root, env=env, capture_output=True, text=True)


def test_pretraining_configs_seed_ranks_differently(repo_root):
    for path in glob.glob(osp.join(repo_root, 'configs', '*', '*pretrain*_1xb*.py')) + \
            glob.glob(osp.join(repo_root, 'configs', '*', '*pretrain*_2xb*.py')):
        assert Config.fromfile(path).randomness.diff_rank_seed is True, path


def test_kill_9_then_resume_reproduces_two_process_pretraining(
        pretrain_setup, repo_root, cli_env):
    root, config = pretrain_setup
    cfg = Config.fromfile(config, import_custom_modules=False)
    assert cfg.randomness.diff_rank_seed is True
    full = root / 'full'
    proc = _dist_train(repo_root, cli_env, config, full)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (expected, ) = _losses_by_run(full)
    assert sorted(expected) == [1, 2, 3, 4, 5, 6]

    # Killed while rank 0 writes iter_4.pth: its temporary file stays behind, the
    # pointer still names iter_2.pth.
    wd = root / 'killed'
    proc = _dist_train(repo_root, cli_env, config, wd, KILL_IN_WRITE='iter_4.pth')
    assert proc.returncode != 0
    assert len(glob.glob(str(wd / '.iter_4.pth.*.eofm-tmp'))) == 1
    assert not (wd / 'iter_4.pth').exists()
    assert (wd / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')

    # Resumed, then killed again at an iteration drawn at random after iter_4.pth.
    kill_at = random.Random(19).choice([5, 6])
    proc = _dist_train(repo_root, cli_env, config, wd, '--resume', KILL_AT_ITER=kill_at)
    assert proc.returncode != 0
    assert 'removed 1 temporary file(s) of interrupted checkpoint writes' in (
        proc.stdout + proc.stderr)
    assert not glob.glob(str(wd / '.*.eofm-tmp'))
    proc = _dist_train(repo_root, cli_env, config, wd, '--resume')
    assert proc.returncode == 0, proc.stderr[-3000:]

    runs = _losses_by_run(wd)
    assert [sorted(r) for r in runs] == [[1, 2, 3, 4], list(range(3, kill_at)), [5, 6]]
    for run in runs:
        for step, loss in run.items():
            assert loss == expected[step], (step, loss, expected[step])
    want = load_checkpoint_safely(str(full / 'iter_6.pth'))['state_dict']
    got = load_checkpoint_safely(str(wd / 'iter_6.pth'))['state_dict']
    assert set(got) == set(want)
    for k, v in want.items():
        assert torch.equal(got[k], v), k
