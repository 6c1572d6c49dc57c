"""Per-source training steps under DDP (2 gloo processes on CPU).

The CPU DDP wrapper (a :class:`eofm.SourceBlockDistributedDataParallel`) must call
the model's per-source step with its own forward: each rank trains AnySatJEPA on
different data blocks of two sources (tiles of 40 m and 80 m), and after one step
the parameters are equal on both ranks (gradients were averaged through DDP) and
the logs are per source.
"""
import os.path as osp
import pickle
import socket

import torch
import pytest

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow


def _sample(tile_px, seed):
    g = torch.Generator().manual_seed(seed)
    return dict(
        naip=torch.randn(4, 8 * tile_px, 8 * tile_px, generator=g),
        s2=torch.randn(3, 10, tile_px, tile_px, generator=g),
        s2_doy=torch.tensor([10, 100, 200]))


def _worker(rank, port, out_dir):
    import torch.distributed as dist
    from mmengine.optim import OptimWrapper

    import eofm  # noqa: F401
    from eofm.engine import CPUDistributedDataParallel
    from eofm.models.anysat.jepa import AnySatJEPA

    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    torch.manual_seed(0)  # same initial weights on both ranks
    net = AnySatJEPA(
        backbone=dict(
            type='eofm.AnySat', arch='tiny', modalities=dict(naip=dict(), s2=dict())),
        predictor=dict(depth=1, num_heads=4),
        seed=rank,
        momentum_steps=10,
        source_batch_sizes=[2, 1],
        source_patch_sizes=[[20], [20, 40]],
        data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor'))
    net.init_weights()
    ddp = CPUDistributedDataParallel(net, find_unused_parameters=True)
    opt = OptimWrapper(torch.optim.SGD(net.parameters(), lr=0.5))
    data = dict(
        inputs=[_sample(4, 10 * rank),
                _sample(4, 10 * rank + 1),
                _sample(8, rank)],
        data_samples=[None] * 3)
    logs = ddp.train_step(data, opt)
    params = torch.cat([p.detach().flatten() for p in net.backbone.parameters()])
    out = dict(keys=sorted(logs), params=params, loss=float(logs['loss']))
    gathered = [None, None]
    dist.all_gather_object(gathered, out)
    if rank == 0:
        with open(osp.join(out_dir, 'gathered.pkl'), 'wb') as f:
            pickle.dump(gathered, f)
    dist.barrier()
    dist.destroy_process_group()


def test_per_source_step_synchronises_gradients(tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(_worker, args=(port, str(tmp_path)), nprocs=2)
    with open(tmp_path / 'gathered.pkl', 'rb') as f:
        ranks = pickle.load(f)
    for r in ranks:
        assert {'loss_pred_source0', 'loss_pred_source1'} <= set(r['keys'])
    assert ranks[0]['loss'] != ranks[1]['loss']  # different data per rank
    torch.testing.assert_close(ranks[0]['params'], ranks[1]['params'])
