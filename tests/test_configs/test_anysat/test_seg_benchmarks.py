"""The AnySat segmentation configs of supplementary Table B (Sen1Floods11, HLS Burn
Scars, BraDD-S1TS) keep the paper's setup and run on CPU through the code path of
tools/train.py: each builds with the 'tiny' AnySat on a fake dataset, trains two
iterations and evaluates once; the linear probes leave the pretrained encoder
unchanged (HLS Burn Scars: all but its new, trained-from-scratch projector).
Sen1Floods11 and BraDD-S1TS use the paper's 6.1K linear head on AnySat's 'dense'
output, whose map is on the label grid (no upsampling)."""
import copy
import math

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS as SEG_MODELS

import eofm.models.tasks.patch_seg_heads as patch_seg_heads

import eofm.datasets.bradd_s1ts  # noqa: F401
import eofm.datasets.hls_burn_scars  # noqa: F401
import eofm.datasets.sen1floods11  # noqa: F401
from tests.helpers.anysat_config_helpers import TINY_DIM, check_common, shrink, train
from tests.helpers.config_helpers import build_runner, load_train_config
from eofm.models.anysat.anysat import AnySat
from tests.helpers.fake_data.bradd_s1ts import make_bradd_s1ts
from tests.helpers.fake_data.hls_burn_scars import make_hls_burn_scars
from tests.helpers.fake_data.sen1floods11 import make_sen1floods11

CFG = 'configs/anysat/anysat_{}.py'
FLOODS = 'linear-probe_8xb1-100e_sen1floods11-p80m'
HLS = {
    'sublinear_1xb4-200e_hls-burn-scars-p240m': False,
    'sublinear-probe_1xb4-200e_hls-burn-scars-p240m': True,
}
BRADD = {
    'linear_8xb256-100e_bradd-s1ts-p10m': False,
    'linear-probe_8xb256-100e_bradd-s1ts-p10m': True,
}
FROZEN = {'backbone': dict(lr_mult=0.0, decay_mult=0.0)}
PAPER_HEAD_PARAMS = 6146  # LayerNorm(2 x 768) + Linear(2 x 768 -> 2): "6.1K"


def head_params(head_cfg):
    """Trainable parameters of the decode head of a config (built alone)."""
    init_default_scope('mmseg')
    head = SEG_MODELS.build(copy.deepcopy(head_cfg))
    return sum(p.numel() for p in head.parameters())


def check_dense_head(model, dense_modality):
    """The paper's linear head on the 'dense' output of ``dense_modality``."""
    assert model.backbone.output == 'dense'
    assert model.backbone.dense_modality == dense_modality
    assert model.neck == dict(type='eofm.TokensToMap', out_type='map')
    head = model.decode_head
    assert head.type == 'eofm.PatchLinearSegHead' and head.norm == 'ln'
    assert head.in_channels == 2 * 768 and head.num_classes == 2
    assert head.ignore_index == 255
    assert head_params(head) == PAPER_HEAD_PARAMS
    head.in_channels = 2 * TINY_DIM


@pytest.fixture
def no_resize(monkeypatch):
    """Records every logits / label size pair the patch heads see: the dense
    map must be on the label grid."""
    seen, resize = [], patch_seg_heads._resize

    def record(x, size, mode, align_corners):
        seen.append((tuple(x.shape[-2:]), tuple(int(v) for v in size)))
        return resize(x, size, mode, align_corners)

    monkeypatch.setattr(patch_seg_heads, '_resize', record)
    yield seen
    assert seen and all(a == b for a, b in seen), seen


def _check_seg(cfg, modalities, patch_size, scale=None, dense_modality=None):
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.data_preprocessor.task == 'seg'
    assert model.backbone.modalities == modalities
    assert model.backbone.patch_size == patch_size
    if dense_modality is not None:
        check_dense_head(model, dense_modality)
    else:
        assert model.backbone.get('output', 'patch') == 'patch'
        assert model.neck == dict(type='eofm.TokensToMap', out_type='map')
        head = model.decode_head
        assert head.type == 'eofm.SubPatchLinearSegHead'
        assert head.in_channels == 768 and head.num_classes == 2
        assert head.scale == scale and head.ignore_index == 255
        head.in_channels = TINY_DIM
    assert cfg.val_evaluator[0].type == 'IoUMetric'
    assert cfg.param_scheduler[0].type == 'ReduceOnPlateauLR'
    assert cfg.param_scheduler[0].monitor == 'mIoU'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].collate_fn == dict(type='eofm.multimodal_collate')


def _assert_miou(metrics):
    assert 'mIoU' in metrics and math.isfinite(metrics['mIoU']), metrics


# ------------------------------------------------------------------ Sen1Floods11
@pytest.fixture(scope='module')
def fake_floods(tmp_path_factory):
    root = tmp_path_factory.mktemp('sen1floods11')
    make_sen1floods11(root)  # 160 m chips: a 2 x 2 grid of 80 m patches
    return root


def test_sen1floods11_probe_config(fake_floods, tmp_path, no_resize):
    cfg = load_train_config(CFG.format(FLOODS), tmp_path / 'work')
    check_common(cfg, frozen=True)
    _check_seg(cfg, ['s2', 's1'], 80, dense_modality='s2')
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.auto_scale_lr.base_batch_size == 8
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline[0].modalities.s2.bands == [
        'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B11', 'B12'
    ]
    assert pipeline[2] == dict(
        type='eofm.AppendBandRatio', modality='s1', mode='difference')
    assert len(cfg.model.data_preprocessor.normalize.s1.mean) == 3
    assert cfg.test_dataloader.dataset.split == 'test'
    shrink(cfg, fake_floods, batch_size=1)
    _assert_miou(train(cfg, frozen=True))


# ------------------------------------------------------------------ HLS Burn Scars
@pytest.fixture(scope='module')
def fake_hls(tmp_path_factory):
    root = tmp_path_factory.mktemp('hls_burn_scars')
    make_hls_burn_scars(root)  # 480 m scenes: a 2 x 2 grid of 240 m patches
    return root


class _Snapshot(Hook):
    """The encoder's state before training, the losses and the validation
    metrics."""

    def before_train(self, runner):
        self.before = copy.deepcopy(runner.model.backbone.state_dict())
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


@pytest.mark.parametrize('name', list(HLS))
def test_hls_burn_scars_configs(name, fake_hls, tmp_path):
    probe = HLS[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    backbone = cfg.model.backbone
    assert backbone.type == 'eofm.AnySat' and backbone.arch == 'base'
    assert backbone.init_cfg == dict(
        type='Pretrained', checkpoint='checkpoints/AnySat.pth')
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == 5e-5
    custom = cfg.optim_wrapper.get('paramwise_cfg', {}).get('custom_keys', {})
    if probe:  # the reference's LP+: frozen encoder, trained new projector
        assert custom == dict(
            FROZEN, **{'backbone.projector_hls': dict(lr_mult=1.0, decay_mult=1.0)})
    else:
        assert not custom
    hls = dict(kind='series', in_channels=6, gsd=30, T=367, dropout=0.2, in_norm=False)
    _check_seg(cfg, dict(hls=hls), 240, 8)
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.train_cfg.max_epochs == 200
    assert list(cfg.model.data_preprocessor.normalize) == ['hls']
    shrink(cfg, fake_hls, batch_size=1)
    runner = build_runner(cfg)
    snap = _Snapshot()
    runner.register_hook(snap)
    runner.train()
    assert len(snap.losses) == 2 and all(map(math.isfinite, snap.losses))
    after = runner.model.backbone.state_dict()
    changed = {k for k in snap.before if not torch.equal(snap.before[k], after[k])}
    if probe:
        assert changed and all(k.startswith('projector_hls.') for k in changed)
    else:
        assert any(not k.startswith('projector_hls.') for k in changed)
    _assert_miou(snap.metrics)


@pytest.fixture(scope='module')
def release_file(tmp_path_factory):
    """A file in the release layout (the 11 modalities, no 'hls') from a random
    'tiny' AnySat."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('weights') / 'AnySat.pth'
    torch.save(AnySat('tiny').state_dict(), str(path))
    return str(path)


def _config_model(name, checkpoint, tmp_path):
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    cfg.model.backbone.arch = 'tiny'
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    head = cfg.model.decode_head
    head.in_channels = TINY_DIM * (2 if head.type == 'eofm.PatchLinearSegHead' else 1)
    init_default_scope('mmseg')
    return SEG_MODELS.build(cfg.model)


@pytest.mark.parametrize('name', [FLOODS, list(BRADD)[0]])
def test_release_file_loads_into_release_modalities(name, release_file, tmp_path):
    model = _config_model(name, release_file, tmp_path)
    model.init_weights()
    state = torch.load(release_file)
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_release_file_loads_with_new_hls_projector(release_file, tmp_path):
    model = _config_model(list(HLS)[0], release_file, tmp_path)
    fresh = copy.deepcopy(model.backbone.projector_hls.state_dict())
    model.init_weights()  # the file has no projector_hls: it keeps its init
    for key, value in model.backbone.projector_hls.state_dict().items():
        assert torch.equal(value, fresh[key]), key
    state = torch.load(release_file)
    for key, value in model.backbone.state_dict().items():
        if not key.startswith('projector_hls.'):
            assert torch.equal(value, state[key]), key


# ------------------------------------------------------------------ BraDD-S1TS
@pytest.fixture(scope='module')
def fake_bradd(tmp_path_factory):
    root = tmp_path_factory.mktemp('bradd_s1ts')
    make_bradd_s1ts(root)
    return root


@pytest.mark.parametrize('name', list(BRADD))
def test_bradd_s1ts_configs(name, fake_bradd, tmp_path, no_resize):
    frozen = BRADD[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    check_common(cfg, frozen)
    _check_seg(cfg, ['s1'], 10, dense_modality='s1')
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.auto_scale_lr.base_batch_size == 2048
    assert cfg.train_dataloader.dataset.type == 'eofm.BraDDS1TS'
    assert dict(
        type='eofm.AppendBandRatio', modality='s1',
        mode='difference') in cfg.train_dataloader.dataset.pipeline
    # two training tiles (4 and 5 dates), one validation tile
    shrink(cfg, fake_bradd, batch_size=1)
    _assert_miou(train(cfg, frozen))
