"""tools/train.py, --resume, tools/test.py and tools/dist_train.sh on the smoke config."""
import glob
import json
import os.path as osp
import pickle
import subprocess

import pytest

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

CONFIG = 'configs/smoke/simplecnn_1xb8-20it_synthetic-32px.py'


def _run(cmd, cwd, env, timeout=600):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f'{" ".join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
        f'{proc.stderr[-5000:]}')
    return proc


def _losses(work_dir):
    """{iter: loss} from the runner's scalars.json (all runs in work_dir)."""
    out = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if 'loss' in rec:
                    out[rec['step']] = rec['loss']
    return out


def _last_accuracy(work_dir):
    acc = None
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                acc = rec.get('accuracy/top1', acc)
    return acc


@pytest.fixture(scope='module')
def trained(tmp_path_factory, repo_root):
    """One uninterrupted 20-iteration run (checkpoints at 10 and 20)."""
    import os
    import sys
    env = dict(os.environ, PYTHONPATH=repo_root, CUDA_VISIBLE_DEVICES='')
    work_dir = str(tmp_path_factory.mktemp('full'))
    proc = _run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir],
                repo_root, env)
    return work_dir, proc


def test_smoke_training_trains_validates_and_checkpoints(trained):
    work_dir, proc = trained
    assert osp.isfile(osp.join(work_dir, 'iter_10.pth'))
    assert osp.isfile(osp.join(work_dir, 'iter_20.pth'))
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('iter_20.pth')
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [20/20]' in log and 'eta:' in log  # progress is visible
    assert 'Iter(val)' in log and 'accuracy/top1' in log
    losses = _losses(work_dir)
    assert sorted(losses) == list(range(2, 21, 2))
    # The task is learnable: the loss falls and held-out samples are classified.
    assert losses[20] < losses[2]
    assert _last_accuracy(work_dir) >= 90.0


def test_resume_reproduces_uninterrupted_losses(trained, tmp_path, repo_root, cli_env,
                                                python_exe):
    work_dir, _ = trained
    resumed = str(tmp_path / 'resumed')
    _run([python_exe, 'tools/train.py', CONFIG, '--work-dir', resumed, '--resume',
          osp.join(work_dir, 'iter_10.pth')], repo_root, cli_env)
    full, again = _losses(work_dir), _losses(resumed)
    assert sorted(again) == list(range(12, 21, 2))
    for step in again:
        assert again[step] == full[step], (step, again[step], full[step])
    assert osp.isfile(osp.join(resumed, 'iter_20.pth'))


def test_resume_auto_picks_last_checkpoint(trained, tmp_path, repo_root, cli_env,
                                           python_exe):
    import shutil
    work_dir, _ = trained
    wd = str(tmp_path / 'auto')
    shutil.copytree(work_dir, wd)
    proc = _run([python_exe, 'tools/train.py', CONFIG, '--work-dir', wd, '--resume',
                 '--cfg-options', 'train_cfg.max_iters=22',
                 'param_scheduler.0.T_max=22'], repo_root, cli_env)
    assert 'resumed epoch: 0, iter: 20' in proc.stdout + proc.stderr


def test_tools_test_prints_metrics_and_dumps(trained, tmp_path, repo_root, cli_env,
                                            python_exe):
    work_dir, _ = trained
    out = str(tmp_path / 'preds.pkl')
    proc = _run([python_exe, 'tools/test.py', CONFIG, osp.join(work_dir, 'iter_20.pth'),
                 '--work-dir', str(tmp_path / 'test'), '--out', out], repo_root, cli_env)
    assert 'accuracy/top1' in proc.stdout + proc.stderr
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 32  # one per validation sample


def test_dist_train_two_cpu_processes(tmp_path, repo_root, cli_env, free_port):
    work_dir = str(tmp_path / 'dist')
    env = dict(cli_env, PORT=str(free_port))
    proc = _run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', work_dir],
                repo_root, env)
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "dist_cfg: {'backend': 'gloo'}" in log
    assert "type='eofm.CPUDistributedDataParallel'" in log
    assert log.count('Iter(train) [20/20]') == 1  # only rank 0 logs
    assert osp.isfile(osp.join(work_dir, 'iter_20.pth'))
    assert len(_losses(work_dir)) == 10


def test_bad_config_path_is_a_clear_error(repo_root, cli_env, python_exe):
    proc = subprocess.run([python_exe, 'tools/train.py', 'configs/nope.py'],
                          cwd=repo_root, env=cli_env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'config file configs/nope.py does not exist' in proc.stderr


def test_dist_test_two_cpu_processes(trained, tmp_path, repo_root, cli_env, free_port):
    work_dir, _ = trained
    env = dict(cli_env, PORT=str(free_port))
    proc = _run(['bash', 'tools/dist_test.sh', CONFIG, osp.join(work_dir, 'iter_20.pth'),
                 '2', '--work-dir', str(tmp_path / 'dtest')], repo_root, env)
    log = proc.stdout + proc.stderr
    assert 'GPU number: 2' in log
    assert 'accuracy/top1' in log


@pytest.mark.parametrize('script,args,expected', [
    ('slurm_train.sh', ['part', 'job', 'cfg.py', 'wd', '--amp'],
     'tools/train.py cfg.py --work-dir=wd --amp --launcher=slurm'),
    ('slurm_test.sh', ['part', 'job', 'cfg.py', 'ck.pth', '--out', 'o.pkl'],
     'tools/test.py cfg.py ck.pth --out o.pkl --launcher=slurm'),
])
def test_slurm_scripts_call_srun_with_standard_flags(script, args, expected, tmp_path,
                                                      repo_root, cli_env):
    fake = tmp_path / 'srun'
    fake.write_text('#!/bin/sh\necho "srun $@"\n')
    fake.chmod(0o755)
    env = dict(cli_env, PATH=f'{tmp_path}:{cli_env["PATH"]}', GPUS='16')
    proc = _run(['bash', f'tools/{script}', *args], repo_root, env)
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith('srun -p part --job-name=job --gres=gpu:8 --ntasks=16 ')
    assert line.endswith(expected)
