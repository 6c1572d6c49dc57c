"""SkySense pretraining: losses, EMA teacher, Sinkhorn, prototypes, training, export."""
import json
import math
import os
import os.path as osp
import subprocess

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub

from eofm.datasets import multimodal_collate
from eofm.models import (CrossModalAlignmentLoss, DINOLoss, GeoContextIntegration,
                         SkySense, prototype_updates, update_geo_prototypes)
from eofm.models.common import load_pretrained, sinkhorn_knopp
from eofm.registry import DATASETS, MODELS
from eofm.datasets.sample_data import generate

# multi-process, runner-based or benchmark runs: not in the fast tier
pytestmark = pytest.mark.slow

CONFIG = 'configs/skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py'


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('sample'))
    generate(root, num_tiles=8, size=32, hr_factor=8, seed=0)
    return root


@pytest.fixture(scope='module')
def cfg(sample_root):
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = sample_root
    return cfg


def _model_and_batch(cfg, n=4, seed=0):
    MessageHub.get_current_instance().update_info('max_iters', 100)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    data = model.data_preprocessor(multimodal_collate([ds[i] for i in range(n)]), True)
    return model, data


def test_dino_loss_value_and_centre():
    loss = DINOLoss(
        out_channels=3,
        streams=['a'],
        student_temp=0.5,
        teacher_temp=0.25,
        center_momentum=0.5)
    s = torch.tensor([[1.0, 0.0, 0.0]])
    t = torch.tensor([[0.0, 1.0, 0.0]])
    expected = -(F.softmax(t / 0.25, -1) * F.log_softmax(s / 0.5, -1)).sum()
    assert torch.allclose(loss(s, t, 'a'), expected)
    assert torch.allclose(loss.centers[0], torch.tensor([0.0, 0.5, 0.0]))  # EMA of t
    w = torch.tensor([1.0, 0.0])
    two = loss(torch.cat([s, s]), torch.cat([t, t * 100]), 'a', w)
    t_c = F.softmax((t - loss.centers[0] * 0 - torch.tensor([0.0, 0.5, 0.0])) / 0.25,
                    -1)
    assert torch.allclose(two, -(t_c * F.log_softmax(s / 0.5, -1)).sum())


def test_cross_modal_alignment_prefers_matching_locations():
    align = CrossModalAlignmentLoss(temperature=0.1, max_pixels=None)
    a = torch.eye(8)
    assert align(a, a) < 0.01
    assert align(a, a.roll(1, 0)) > 5
    assert align(a, a, torch.zeros(8, dtype=torch.bool)) == 0


def test_sinkhorn_constraints():
    torch.manual_seed(0)
    q = sinkhorn_knopp(torch.rand(3, 40, 5) * 2 - 1, iterations=50)  # cosine-like
    assert torch.allclose(q.sum(-1), torch.ones(3, 40), atol=1e-5)  # rows: 1
    assert torch.allclose(q.sum(-2), torch.full((3, 5), 8.0), atol=0.05)  # cols: N/K
    assert (q >= 0).all()


def test_prototype_update_eq_11_13():
    geo = GeoContextIntegration(embed_dims=4, num_prototypes=2, n_lat=1, n_lon=1)
    with torch.no_grad():
        geo.prototypes.copy_(torch.tensor([[[1.0, 0, 0, 0], [0, 1.0, 0, 0]]]))
    feats = torch.zeros(1, 4, 2, 2)
    feats[0, 0, 0] = 3.0  # two cells like prototype 0
    feats[0, 1, 1] = 2.0  # two like prototype 1
    bar = prototype_updates(geo.prototypes, feats, torch.tensor([0]), 10, 0.05)
    assert torch.allclose(bar[0], torch.eye(4)[:2], atol=1e-3)  # assignment means
    before = geo.prototypes.clone()
    update_geo_prototypes(geo, feats, torch.tensor([[0.0, 0.0]]), momentum=0.9)
    assert torch.allclose(geo.prototypes, 0.9 * before + 0.1 * bar, atol=1e-6)


def _ddp_worker(rank, port, feats, lonlat, out_dir):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    torch.manual_seed(0)
    geo = GeoContextIntegration(embed_dims=8, num_prototypes=3, n_lat=2, n_lon=2)
    half = slice(0, 3) if rank == 0 else slice(3, 5)  # unequal local batches
    update_geo_prototypes(geo, feats[half], lonlat[half], momentum=0.5)
    torch.save(geo.prototypes.detach(), osp.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_prototype_update_identical_on_one_and_two_processes(tmp_path):
    import socket
    torch.manual_seed(1)
    feats = torch.randn(5, 8, 3, 3)
    lonlat = torch.tensor([[10.0, 40.0], [10.0, 41.0], [-60.0, -10.0], [12.0, 42.0],
                           [100.0, -30.0]])
    torch.manual_seed(0)
    single = GeoContextIntegration(embed_dims=8, num_prototypes=3, n_lat=2, n_lon=2)
    update_geo_prototypes(single, feats, lonlat, momentum=0.5)
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    torch.multiprocessing.spawn(
        _ddp_worker, args=(port, feats, lonlat, str(tmp_path)), nprocs=2)
    r0 = torch.load(tmp_path / 'rank0.pt')
    r1 = torch.load(tmp_path / 'rank1.pt')
    assert torch.equal(r0, r1)
    assert torch.allclose(r0, single.prototypes.detach(), atol=1e-6)


def test_losses_gradients_and_ema(cfg):
    model, data = _model_and_batch(cfg)
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_pix', 'loss_obj', 'loss_img', 'loss_align'}
    k = cfg.model.head.out_channels
    for name in ('loss_pix', 'loss_obj', 'loss_img'):  # 4 sources, near log K at init
        assert 0.5 * 4 * math.log(k) < losses[name].item() < 1.5 * 4 * math.log(k)
    sum(losses.values()).backward()
    assert model.backbone.fusion.porj_linear.weight.grad.abs().sum() > 0
    assert model.heads['hr'].mlp[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.backbone.geo_context.prototypes.grad is None
    # EMA: after the first update the teacher equals the student; then it moves by
    # momentum m towards it (CosineEMA, m = base_momentum at step 1 of 100).
    student = model.backbone.fusion.porj_linear.weight
    teacher = model.teacher.module['backbone'].fusion.porj_linear.weight
    assert torch.equal(teacher, student)
    before = teacher.clone()
    with torch.no_grad():
        student.add_(1.0)
    model.teacher.update_parameters(
        torch.nn.ModuleDict(dict(backbone=model.backbone, heads=model.heads)))
    m = cfg.model.base_momentum
    m1 = (math.cos(math.pi * 1 / 100) + 1) / 2 * m  # cosine towards end_momentum 0
    assert torch.allclose(teacher, before + m1 * 1.0, atol=1e-6)


def test_batched_mgcl_equals_the_per_image_loop(cfg):
    """All images at once, and one head call per source for every level and view
    order, give the losses and gradients of one image and one level at a time."""
    import copy
    base, data = _model_and_batch(cfg, n=4, seed=1)
    base.max_pairs = 16  # every image gets as many cell pairs: the batched path
    results = []
    for batched, heads in ((True, True), (True, False), (False, False)):
        model = copy.deepcopy(base)  # the DINO centres are updated by a loss call
        model.batch_images, model.batch_heads = batched, heads
        calls, cluster = [], model._cluster
        model._cluster = lambda a, b: calls.append(len(a)) or cluster(a, b)
        head_calls = []
        model.heads['hr'].register_forward_hook(lambda *a: head_calls.append(1))
        torch.manual_seed(5)  # the pair subsampling draws the same cells
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        results.append(({k: v.item() for k, v in losses.items()},
                        model.heads['hr'].mlp[0].weight.grad.clone(),
                        model.loss_cl.centers.clone()))
        # 4 sources x 2 view orders: one call each, or one per image
        assert len(calls) == (8 if batched else 8 * 4)
        # the student's hr head: once, or per level (pix, obj, img) and view order
        assert len(head_calls) == (1 if heads else 3 * 2)
    *fast, (loop, g_loop, c_loop) = results
    for batched, g_batched, c_batched in fast:
        for k in loop:
            assert batched[k] == pytest.approx(loop[k], rel=1e-5, abs=1e-6), k
        assert torch.allclose(g_batched, g_loop, rtol=1e-4, atol=1e-6)
        assert torch.allclose(c_batched, c_loop, rtol=1e-4, atol=1e-6)


def test_pixel_pairs_are_the_same_ground(cfg):
    """Pairs from the views' geometry show the same pixels of the original tile."""
    model, data = _model_and_batch(cfg, n=2, seed=3)
    geos = [s.view_geometries for s in data['data_samples']]
    for i in range(2):
        # Encode ground position into an image: cell id = y * W + x on a 64 grid.
        ids = torch.arange(64 * 64).view(1, 64, 64).float()
        from eofm.structures import footprint_coords
        views = []
        for k in range(2):
            xy = footprint_coords(geos[i][k], 6, 6)
            views.append(np.floor(xy[..., 1] * 64) * 64 + np.floor(xy[..., 0] * 64))
        ia, ib = model._pairs(geos[i][0], geos[i][1], (6, 6), (6, 6), 'cpu')
        a = views[0].reshape(-1)[ia.numpy()]
        b = views[1].reshape(-1)[ib.numpy()]
        # Cell centres of the two views fall in the same 1/6-tile feature cell,
        # hence within one feature cell (64 / 6 px) of each other on the ground.
        ya, xa, yb, xb = a // 64, a % 64, b // 64, b % 64
        assert len(ia) > 0 and np.abs(ya - yb).max() < 64 / 6 * 2
        assert np.abs(xa - xb).max() < 64 / 6 * 2
        assert ids.numel() == 4096


def test_a_few_steps_lower_the_loss(cfg):
    model, data = _model_and_batch(cfg)
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                              lr=1e-3)
    values = []
    for _ in range(12):
        losses = model(**data, mode='loss')
        total = sum(losses.values())
        optim.zero_grad()
        total.backward()
        optim.step()
        model.update_teacher()  # as eofm.TeacherEMAHook does
        values.append(total.item())
    assert np.mean(values[-3:]) < 0.85 * np.mean(values[:3])


def _log_losses(work_dir):
    (run, ) = [d for d in os.listdir(work_dir)
               if osp.isdir(osp.join(work_dir, d, 'vis_data'))]  # the run's log dir
    path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
    return {r['step']: r['loss'] for r in map(json.loads, open(path)) if 'loss' in r}


def test_resume_reproduces_losses_and_teacher_exports(sample_root, tmp_path, repo_root,
                                                      python_exe, cli_env):
    common = [
        python_exe, 'tools/train.py', CONFIG, '--cfg-options',
        f'train_dataloader.dataset.data_root={sample_root}', 'train_cfg.max_iters=6',
        'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=3',
        'custom_hooks.1.max_samples=4', 'custom_hooks.1.seeds=[0]',
        'custom_hooks.1.fractions=[0.5,1.0]',
        f'custom_hooks.1.probe_train.data_root={sample_root}',
        f'custom_hooks.1.probe_val.data_root={sample_root}'
    ]

    def run(work_dir, *extra):
        subprocess.run(
            common + ['--work-dir', str(work_dir), *extra],
            cwd=repo_root,
            env=cli_env,
            check=True,
            capture_output=True,
            timeout=600)

    run(tmp_path / 'full')
    full = _log_losses(tmp_path / 'full')
    os.makedirs(tmp_path / 'resumed')
    ckpt = tmp_path / 'full' / 'iter_3.pth'
    run(tmp_path / 'resumed', '--resume', str(ckpt))
    resumed = _log_losses(tmp_path / 'resumed')
    assert sorted(resumed) == [4, 5, 6]
    for step in (4, 5, 6):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5)
    report = json.load(open(tmp_path / 'full' / 'linear_probe.json'))
    assert 0 <= report['pretrained teacher']['pixel_accuracy'] <= 1
    # k-NN and linear probes, 2 levels, 2 fractions, 1 seed, 2 feature sets
    assert len(report['rows']) == 2 * 2 * 2 * 1 * 2
    assert all(r['ci_low'] <= r['accuracy'] <= r['ci_high'] for r in report['rows'])
    assert osp.isfile(tmp_path / 'full' / 'label_efficiency.png')
    # the land-cover map: a generated scene through scene inference, on the
    # Sentinel-2 grid, every pixel valid and classified
    assert osp.isfile(tmp_path / 'full' / 'land_cover_map.png')
    manifest = json.load(open(tmp_path / 'full' / 'scene_map' / 'inference' /
                              'manifest.json'))
    assert (manifest['width'], manifest['height']) == (128, 128)
    assert manifest['settings']['feature'] == 'fused_mm'
    assert manifest['files']['embeddings']['bands'] == 64  # the tiny fusion's width
    assert 0.2 < report['scene_map_accuracy'] <= 1  # above chance (5 classes)
    text = open(tmp_path / 'full' / 'report.md').read()
    assert '| random init | tile | knn |' in text
    # each fraction's column names its labelled tiles (max_samples=4: 4 at 100 %)
    assert '100 % labels (4 tiles)' in text and '50 % labels (' in text
    assert len(report['per_class_pixel_recall']['random init']) == 5
    assert '| pretrained teacher | ' in text.split('Per-class recall')[1]
    assert osp.isfile(tmp_path / 'full' / 'loss_curves.png')
    assert osp.isfile(tmp_path / 'full' / 'prototypes.png')
    # The teacher exports into the downstream backbone with no missing keys.
    from tools.model_converters.skysense_teacher import main
    main([str(tmp_path / 'full' / 'iter_6.pth'), str(tmp_path / 'teacher.pth')])
    cfg = Config.fromfile(CONFIG)
    downstream = SkySense(**{
        k: v
        for k, v in cfg.model.backbone.items() if k != 'type'
    })
    out = load_pretrained(
        downstream,
        str(tmp_path / 'teacher.pth'),
        'backbone',
        allow_missing=(r'.*\.relative_', ))
    assert out['missing'] == []  # zero missing keys
    ckpt = torch.load(tmp_path / 'full' / 'iter_6.pth', weights_only=False)
    teacher_w = ckpt['state_dict']['teacher.module.backbone.fusion.porj_linear.weight']
    assert torch.equal(downstream.fusion.porj_linear.weight, teacher_w)


def test_paper_scale_config_builds_on_meta():
    from eofm.models.common import empty_weights
    for name in ('pretrain_80xa100.py',
                 'skysense-pretrain_huge_80xb3-875kit_multimodal-1024px.py'):
        cfg = Config.fromfile(f'configs/skysense/{name}')
        assert cfg.runner_type == 'FlexibleRunner'
        assert cfg.strategy.type == 'FSDPStrategy'
        assert cfg.optim_wrapper.dtype == 'bfloat16'
        assert cfg.model.backbone.with_cp and cfg.train_dataloader.batch_size * 80 == 240
        assert cfg.train_cfg.max_iters == 875000
    with empty_weights():
        model = MODELS.build(cfg.model)
    protos = model.backbone.geo_context.prototypes
    assert protos.shape == (4096, 100,
                            1024) and not isinstance(protos, torch.nn.Parameter)
    student = sum(p.numel() for p in model.backbone.parameters())
    # Table J12's modules (see configs/skysense); the prototype bank is a buffer.
    assert student + protos.numel() == 2_078_438_544
    teacher = sum(p.numel() for p in model.teacher.module['backbone'].parameters())
    assert teacher == student


def test_report_map_uses_only_the_checkpoint_of_the_runs_end(tmp_path):
    """The land-cover map's weights: the checkpoint ``last_checkpoint`` names only
    when it is this run's last iteration; a stale one (an earlier run in the same
    work dir, an earlier iteration) is not used."""
    import types

    from eofm.models.skysense.report_hook import DEFAULT_SCENE, PretrainReportHook
    runner = types.SimpleNamespace(work_dir=str(tmp_path), iter=150)
    assert PretrainReportHook._final_checkpoint(runner) is None  # none saved
    for name in ('iter_100.pth', 'iter_150.pth'):
        (tmp_path / name).write_bytes(b'x')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_100.pth'))
    assert PretrainReportHook._final_checkpoint(runner) is None  # another iteration
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_150.pth'))
    assert PretrainReportHook._final_checkpoint(runner) == str(tmp_path / 'iter_150.pth')
    (tmp_path / 'iter_150.pth').unlink()
    assert PretrainReportHook._final_checkpoint(runner) is None  # named but gone
    # scene options: the defaults, with what is given over them; None: no map
    hook = PretrainReportHook(None, None, 5, scene=dict(size=64))
    assert hook.scene == dict(DEFAULT_SCENE, size=64)
    assert PretrainReportHook(None, None, 5, scene=None).scene is None
