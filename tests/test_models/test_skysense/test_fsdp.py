"""The pretraining under FSDP (2 CPU processes, gloo): blocks sharded, teacher EMA on
shards, geo prototypes replicated and identical on every rank."""
import os.path as osp
import socket

import torch
import pytest

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

CONFIG = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'


def _worker(rank, port, root, out_dir):
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    import eofm  # noqa: F401
    from eofm.datasets import multimodal_collate
    from eofm.models.skysense import skysense_block_wrap_policy
    from eofm.registry import DATASETS, MODELS
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = root
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    data = model.data_preprocessor(
        multimodal_collate([ds[2 * rank], ds[2 * rank + 1]]), True)
    protos0 = model.backbone.geo_context.prototypes.clone()
    fsdp = FSDP(
        model,
        device_id=torch.device('cpu'),
        use_orig_params=True,
        auto_wrap_policy=skysense_block_wrap_policy)
    optim = torch.optim.AdamW([p for p in fsdp.parameters() if p.requires_grad],
                              lr=1e-3)
    losses = []
    for _ in range(2):
        total = sum(fsdp(**data, mode='loss').values())
        optim.zero_grad()
        total.backward()
        optim.step()
        model.update_teacher()  # what eofm.TeacherEMAHook does
        losses.append(total.item())
    protos = model.backbone.geo_context.prototypes.clone()
    torch.save(
        dict(
            losses=losses,
            protos=protos,
            changed=not torch.equal(protos, protos0),
            steps=int(model.teacher.steps)), osp.join(out_dir, f'r{rank}.pt'))
    dist.destroy_process_group()


def test_pretraining_under_fsdp(tmp_path):
    from eofm.datasets.sample_data import generate
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_worker, args=(port, root, str(tmp_path)), nprocs=2)
    r0, r1 = (torch.load(tmp_path / f'r{r}.pt') for r in (0, 1))
    assert all(torch.isfinite(torch.tensor(r['losses'])).all() for r in (r0, r1))
    assert r0['changed'] and torch.equal(r0['protos'], r1['protos'])
    assert r0['steps'] == r1['steps'] == 3  # the copy at init + two EMA steps


def test_flexible_runner_fsdp_strategy_through_dist_train(tmp_path, repo_root, cli_env):
    """The paper config's runner path (FlexibleRunner + FSDPStrategy with eofm's wrap
    policy) on 2 CPU processes via tools/dist_train.sh, with a checkpoint."""
    import subprocess

    from eofm.datasets.sample_data import generate
    root = str(tmp_path / 'sample')
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    cfg = tmp_path / 'tiny_fsdp.py'
    cfg.write_text(
        f"_base_ = [{osp.join(repo_root, CONFIG)!r}]\n"
        "runner_type = 'FlexibleRunner'\n"
        "strategy = dict(type='FSDPStrategy', model_wrapper=dict(\n"
        "    auto_wrap_policy=dict(type='eofm.skysense_block_wrap_policy'),\n"
        "    use_orig_params=True, device_id='cpu'))\n"
        "train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)\n"
        f"train_dataloader = dict(dataset=dict(data_root={root!r}))\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))\n"
        "custom_hooks = [dict(type='eofm.ExactResumeHook'),\n"
        "                dict(type='eofm.TeacherEMAHook')]\n")
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(cli_env, PORT=str(port))
    res = subprocess.run([
        'bash', 'tools/dist_train.sh',
        str(cfg), '2', '--work-dir',
        str(tmp_path / 'work')
    ],
                         cwd=repo_root,
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert 'Iter(train) [2/2]' in res.stdout + res.stderr
    assert (tmp_path / 'work' / 'iter_2.pth').exists()
