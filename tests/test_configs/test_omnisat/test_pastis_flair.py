"""OmniSat on PASTIS-HD and FLAIR (ECCV 2024, Tables 3-4): the 'pastis_hd' / 'flair'
encoder presets (4 x 4 Sentinel pixels per 40 m patch flattened as the reference's
LTAE2dPastis), the dense-label -> multi-hot transform, and every config loaded with
its paper setup asserted, then run for two training iterations (plus one evaluation
for fine-tuning) on tiny fake PASTIS-HD (160 m tiles: 4 x 4 patches of 40 m) and
FLAIR (20 m tiles: 2 x 2 patches of 10 m) at CPU size."""
import math

import numpy as np
import pytest
import torch
from mmengine.hooks import Hook

from tests.helpers.config_helpers import (ROOT, build_runner, cpu_runtime, leaf_datasets,
                            load_train_config)
# also registers eofm.SegMapToMultiLabel
from eofm.datasets.transforms.labels import SegMapToMultiLabel
from eofm.models.omnisat import (OmniSat, OmniSatPretrainer,
                                 convert_omnisat_reference_state_dict)
from eofm.models.common import empty_weights
from eofm.registry import MODELS
from tests.helpers.fake_data.flair import make_flair
from tests.helpers.fake_data.pastis import make_pastis

CFG = 'configs/omnisat/omnisat-{}.py'
SMALL = dict(embed_dim=32, depth=1, num_heads=4, mlp_ratio=2.0)
# CPU size: 160 m PASTIS-HD tiles (16 S2 px, 160 SPOT px at 1 m) in 40 m patches
TINY_PASTIS = dict(OmniSat.arch_zoo['pastis_hd'], **SMALL, tile_size=160.0)
# CPU size: 20 m FLAIR tiles in 10 m patches; the fake 16 px aerial patches are read
# as 64 px (32 px per patch, which the aerial projector needs) and taken at 0.3125 m
TINY_FLAIR = dict(
    OmniSat.arch_zoo['flair'],
    **SMALL,
    tile_size=20.0,
    modality_cfgs=dict(aerial=dict(in_channels=5, gsd=0.3125)))

PASTIS_MM = ('spot', 's2', 's1_asc')
FLAIR_MM = ('aerial', 's2')
# config -> (dataset, modalities, label fraction in %)
FINETUNE = {
    'mm_linear_3xb128-200e_pastis-hd-1280m': ('pastis', PASTIS_MM, 100),
    'mm_linear_3xb128-200e_pastis-hd-20pct-1280m': ('pastis', PASTIS_MM, 20),
    's1_linear_3xb128-200e_pastis-hd-1280m': ('pastis', ('s1_asc', ), 100),
    's2_linear_3xb128-200e_pastis-hd-1280m': ('pastis', ('s2', ), 100),
    'spot_linear_3xb128-200e_pastis-hd-1280m': ('pastis', ('spot', ), 100),
    'mm_linear_3xb128-200e_flair-100m': ('flair', FLAIR_MM, 100),
    'mm_linear_3xb128-200e_flair-10pct-100m': ('flair', FLAIR_MM, 10),
    's2_linear_3xb128-200e_flair-100m': ('flair', ('s2', ), 100),
    'aerial_linear_3xb128-200e_flair-100m': ('flair', ('aerial', ), 100),
}
# config -> (dataset, preset, modalities, encoder / pretraining model parameters)
PRETRAIN = {
    'pretrain_3xb128-250e_pastis-hd-1280m':
    ('pastis', 'pastis_hd', PASTIS_MM, 10_348_864, 12_366_867),
    'pretrain_3xb128-250e_flair-100m':
    ('flair', 'flair', FLAIR_MM, 9_471_648, 11_349_423),
}

# top-level config variables that only build the pipelines / models
HELPER_VARIABLES = ('pipeline', 'aerial_pipeline', 'train_pipeline', 'test_pipeline',
                    'pretrain_pipeline', 'load', 'load_aerial', 'load_s2', 'load_cfgs',
                    'remap', 'to_multilabel', 'pack', 'packed', 'train_crop',
                    'test_crop', 'train_sample', 'test_sample', 'modalities',
                    'normalize', 'normalize_used', 'lengths', 'series_lengths',
                    'flair_lut', 'aerial_bands')


def _count(module):
    return sum(p.numel() for p in module.parameters())


class _Record(Hook):

    def __init__(self):
        self.losses, self.metrics = [], {}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(outputs['loss'].item())

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


@pytest.fixture(scope='module')
def fake_roots(tmp_path_factory):
    pastis = tmp_path_factory.mktemp('pastis_hd')
    # 5 patches: folds 1-3 train (3 tiles), fold 4 validates; SPOT at 1 m
    make_pastis(pastis, n_patches=5, size=16, hr_scale=10)
    flair = tmp_path_factory.mktemp('flair')
    make_flair(flair)
    return dict(pastis=pastis, flair=flair)


# ------------------------------------------------------------------ encoder presets
def test_preset_parameter_counts():
    """By hand from the TreeSatAI-TS counts (d = 256): the image stem conv has
    256 x 9 weights per band (3 bands: -2,304; 5 bands: +2,304), the first L-TAE layer
    32 weights per input channel (S2 10 x 16: +4,800; S1 3 x 16 instead of 2:
    +1,472), pos_embed and the cross block's positions 256 per patch each (1024
    patches: +2 x 988 x 256; 100 patches: +2 x 64 x 256); the decoders' last layers
    change likewise (image 9 x 256 + 1 per band; series 257 per output value)."""
    with empty_weights():
        enc = OmniSat(arch='pastis_hd', modalities=PASTIS_MM)
        assert _count(enc.projector_spot) == 3_550_464 - 2_304
        assert _count(enc.projector_s2) == 403_232 + 4_800
        assert _count(enc.projector_s1_asc) == 402_464 + 1_472
        assert enc.pos_embed.shape == (1, 1025, 256) and enc.grid_shape == (32, 32)
        assert _count(enc) == 9_839_040 - 2_304 + 4_800 + 1_472 + 2 * 988 * 256
        model = OmniSatPretrainer(
            backbone=dict(type='eofm.OmniSat', arch='pastis_hd', modalities=PASTIS_MM))
        assert _count(model.decoder.projector_spot) == 1_778_692 - 2_305
        # Linear(256 -> 10 x 16) / (256 -> 3 x 16) + the frozen 367 x 256 date table
        assert _count(model.decoder.projector_s2) == 257 * 160 + 367 * 256
        assert _count(model.decoder.projector_s1_asc) == 257 * 48 + 367 * 256
        assert _count(model) == 12_366_867
        enc = OmniSat(arch='flair', modalities=FLAIR_MM)
        assert _count(enc.projector_aerial) == 3_550_464 + 2_304
        assert _count(enc) == 9_839_040 - 402_464 + 2_304 + 2 * 64 * 256
        model = OmniSatPretrainer(
            backbone=dict(type='eofm.OmniSat', arch='flair', modalities=FLAIR_MM))
        assert _count(model) == 9_471_648 + 1_778_692 + 2_305 + 96_522 + 256
        # the TreeSatAI-TS default is unchanged
        assert _count(OmniSat()) == 9_839_040


def _reference_flatten(x, k):
    """The reference's LTAE2dPastis input order, transcribed: (B x N, T, C x k x k)."""
    x = x.unfold(3, k, k).unfold(4, k, k)
    return x.flatten(3, 4).flatten(4, 5).permute(0, 3, 1, 2,
                                                 4).flatten(3, 4).flatten(0, 1)


def test_pastis_series_patches_flattened_as_reference():
    x = torch.randn(2, 3, 10, 8, 12)
    flat = OmniSat.flatten_series_patches(x, 4)  # (B, T, C x 16, gh, gw)
    assert flat.shape == (2, 3, 160, 2, 3)
    ours = flat.permute(0, 3, 4, 1, 2).reshape(12, 3, 160)
    assert torch.equal(ours, _reference_flatten(x, 4))


def test_pastis_preset_forward_and_pretraining():
    torch.manual_seed(0)
    batch = dict(
        spot=torch.rand(2, 3, 160, 160),
        s2=torch.randn(2, 5, 10, 16, 16),
        s2_doy=torch.randint(1, 366, (2, 5)),
        s1_asc=torch.randn(2, 4, 3, 16, 16),
        s1_asc_doy=torch.randint(1, 366, (2, 4)))
    enc = OmniSat(arch=TINY_PASTIS, modalities=PASTIS_MM).eval()
    assert enc.projector_s2.in_channels == 160
    assert enc.projector_s1_asc.in_channels == 48
    patches, tile = enc(batch)
    assert patches.shape == (2, 16, 32) and tile.shape == (2, 32)
    _, out = enc.forward_proj(batch)
    assert out['input_s2'].shape == (2, 5, 160, 4, 4)
    assert out['input_spot'].shape == (2, 16, 3, 40, 40)
    model = OmniSatPretrainer(
        backbone=dict(type='eofm.OmniSat', arch=TINY_PASTIS, modalities=PASTIS_MM))
    losses = model.loss(batch)
    assert set(losses) == {
        'loss_rec_spot', 'loss_rec_s2', 'loss_rec_s1_asc', 'loss_milnce'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    pred, index = model.predict(batch)['s2']
    assert pred.shape == (index.shape[0], 16, 160)
    with pytest.raises(ValueError, match='s1_asc has 2 channels'):
        enc(dict(batch, s1_asc=torch.randn(2, 4, 2, 16, 16)))
    # a reference MAEOmni state dict of PASTIS-HD ('aerial' is the SPOT image)
    ref = {}
    for k, v in model.state_dict().items():
        k = k.replace('projector_spot.', 'projector_aerial.')
        k = k.replace('projector_s1_asc.', 'projector_s1-asc.')
        ref[k.replace('backbone.', 'encoder.', 1)] = v
    assert 'decoder.projector_aerial.decode.7.bias' in ref
    model.load_state_dict(
        convert_omnisat_reference_state_dict(ref, modality_names=dict(aerial='spot')),
        strict=True)


# ------------------------------------------------------------------ labels
def test_seg_map_to_multilabel():
    seg = np.array([[0, 0, 3], [255, 3, 1]])
    t = SegMapToMultiLabel(num_classes=4)
    out = t(dict(gt_seg_map=seg.copy(), sample_id='a'))
    assert out['gt_labels'].tolist() == [1, 1, 0, 1] and 'gt_seg_map' not in out
    out = SegMapToMultiLabel(
        num_classes=4, min_pixels=2, ignore_index=(255, 7), keep_seg_map=True)(
            dict(gt_seg_map=np.where(seg == 1, 7, seg)))
    assert out['gt_labels'].tolist() == [1, 0, 0, 1] and 'gt_seg_map' in out
    with pytest.raises(ValueError, match=r'sample a: gt_seg_map has values \[7\]'):
        t(dict(gt_seg_map=np.array([[7, 1]]), sample_id='a'))
    with pytest.raises(KeyError, match='not loaded'):
        t(dict(sample_id='a'))
    with pytest.raises(ValueError, match='are class indices'):
        SegMapToMultiLabel(num_classes=4, ignore_index=0)


def test_dataset_multilabel_targets(fake_roots):
    from eofm.registry import DATASETS
    from mmengine.config import Config
    cfg = Config.fromfile(f'{ROOT}/configs/_base_/datasets/flair_multilabel.py')
    ds = dict(cfg.train_dataloader.dataset, data_root=str(fake_roots['flair']) + '/')
    ds['pipeline'] = [dict(cfg.load_aerial), cfg.remap, cfg.to_multilabel]
    sample = DATASETS.build(ds)[0]
    # mask quadrants 1, 5, 13, 19 -> classes 0, 4 and "other" 12
    assert np.flatnonzero(sample['gt_labels']).tolist() == [0, 4, 12]
    cfg = Config.fromfile(f'{ROOT}/configs/_base_/datasets/pastis_hd_multilabel.py')
    ds = dict(cfg.train_dataloader.dataset, data_root=str(fake_roots['pastis']) + '/')
    ds['pipeline'] = [dict(cfg.load), cfg.remap, cfg.to_multilabel]
    sample = DATASETS.build(ds)[0]
    # patch 0: values (row + col) % 20 over 16 x 16 px: 0-19 present; 0 and 19 left out
    assert sample['gt_labels'].tolist() == [1] * 18


# ------------------------------------------------------------------ configs
def _shrink_pipelines(cfg, dataset):
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if loader is None:
            continue
        for ds in leaf_datasets(loader.dataset):
            for t in ds.pipeline:
                if t.type == 'eofm.TemporalSample':
                    t.lengths = {m: 4 for m in t.lengths}
                if dataset != 'flair':
                    continue
                if t.type == 'eofm.LoadMultiModalTiles':
                    t.modalities.aerial.size = (64, 64)
                if t.type in ('eofm.AlignedRandomCrop', 'eofm.AlignedCenterCrop'):
                    t.size = 64
                if t.type == 'eofm.LoadFLAIR2Sentinel':
                    t.size = 2


def _train(cfg, root):
    cpu_runtime(cfg, root, batch_size=2)
    # no checkpoint (each save formats the whole config, seconds on this machine)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=1000, save_last=False)
    for key in HELPER_VARIABLES:  # the runner logs the config: keep it short
        cfg.pop(key, None)
    runner = build_runner(cfg)
    record = _Record()
    runner.register_hook(record)
    runner.train()
    assert len(record.losses) == 2, record.losses
    assert all(math.isfinite(v) for v in record.losses), record.losses
    return record


@pytest.mark.parametrize('name', list(FINETUNE))
def test_finetuning_configs(name, fake_roots, tmp_path):
    dataset, modalities, fraction = FINETUNE[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    model = cfg.model
    preset, num_classes = dict(pastis=('pastis_hd', 18), flair=('flair', 13))[dataset]
    # the reference's fine-tuning: linear layer on the tile token, BCE, Adam 2e-4
    assert model.type == 'ImageClassifier'
    assert model.backbone.type == 'eofm.OmniSat' and model.backbone.arch == preset
    assert tuple(model.backbone.modalities) == modalities
    assert model.backbone.init_cfg.prefix == 'backbone.'
    tile = dict(pastis='pastis-hd-1280m', flair='flair-100m')[dataset]
    assert model.backbone.init_cfg.checkpoint == (
        f'work_dirs/omnisat-pretrain_3xb128-250e_{tile}/epoch_250.pth')
    assert model.neck == dict(type='eofm.TokensToMap', out_type='pooled', pool='tile')
    assert model.head.type == 'MultiLabelLinearClsHead'
    assert model.head.num_classes == num_classes and model.head.in_channels == 256
    assert model.head.loss.use_sigmoid
    assert model.data_preprocessor.task == 'cls'
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=2e-4)
    assert cfg.train_cfg.max_epochs == 200
    assert cfg.train_dataloader.batch_size == 128
    assert dict(type='MultiLabelMetric', thr=0.5, average='macro') in cfg.val_evaluator
    assert cfg.param_scheduler[0].monitor == 'multi-label/f1-score'
    assert cfg.label_fraction == fraction
    train_ds = cfg.train_dataloader.dataset
    if fraction < 100:
        assert train_ds.type == 'KFoldDataset' and train_ds.test_mode
        assert train_ds.num_splits == 100 // fraction and train_ds.seed == 0
        train_ds.num_splits = 1  # the 3 fake training tiles: run on all
        train_ds = train_ds.dataset
    if dataset == 'pastis':
        assert train_ds.type == 'eofm.PASTISHD' and list(train_ds.folds) == [1, 2, 3]
    else:
        assert train_ds.type == 'eofm.FLAIR2' and train_ds.split == 'train'
    steps = {t.type: t for t in train_ds.pipeline}
    assert steps['eofm.SegMapToMultiLabel'].num_classes == num_classes
    assert tuple(steps['eofm.PackMultiModalInputs'].modalities) == modalities
    if dataset == 'flair':
        assert steps['eofm.AlignedRandomCrop'].size == 500
        if 's2' in modalities:
            assert steps['eofm.LoadFLAIR2Sentinel'].size == 10
    # CPU size
    model.backbone.arch = dict(TINY_PASTIS if dataset == 'pastis' else TINY_FLAIR)
    model.backbone.pop('init_cfg')
    model.head.in_channels = SMALL['embed_dim']
    _shrink_pipelines(cfg, dataset)
    cfg.train_cfg.max_epochs = 1
    record = _train(cfg, fake_roots[dataset])
    for key in ('multi-label/f1-score', 'multi-label/f1-score_micro',
                'multi-label/mAP'):
        assert key in record.metrics and math.isfinite(record.metrics[key]), (
            record.metrics)


@pytest.mark.parametrize('name', list(PRETRAIN))
def test_pretraining_configs(name, fake_roots, tmp_path):
    dataset, preset, modalities, n_enc, n_model = PRETRAIN[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    model = cfg.model
    assert model.type == 'eofm.OmniSatPretrainer'
    assert model.backbone.arch == preset
    assert tuple(model.backbone.modalities) == modalities
    assert model.mask_ratio == 0.75 and model.date_threshold == 0.25
    assert model.contrastive == dict(type='eofm.MILNCELoss', tau=0.1)
    assert model.reconstruction_weight == 1.0 and model.contrastive_weight == 1.0
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    assert cfg.train_cfg.max_epochs == 250 and cfg.train_dataloader.batch_size == 128
    steps = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert 'eofm.SegMapToMultiLabel' not in steps  # no labels
    with empty_weights():
        net = MODELS.build(model)
    assert _count(net.backbone) == n_enc and _count(net) == n_model
    model.backbone.arch = dict(TINY_PASTIS if dataset == 'pastis' else TINY_FLAIR)
    _shrink_pipelines(cfg, dataset)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    cfg.log_processor = dict(by_epoch=False)
    _train(cfg, fake_roots[dataset])
