"""The AnySat fine-tuning / linear-probing configs keep the paper's setup and run on
CPU through the code path of tools/train.py: each builds with the 'tiny' AnySat on a
fake dataset in the official layout, trains two iterations and evaluates once; the
linear-probing configs leave the encoder unchanged."""
import math

import pytest

from tests.helpers.anysat_config_helpers import TINY_DIM, check_common, shrink, train
from tests.helpers.config_helpers import load_train_config
from tests.helpers.fake_data.flair import make_flair_full_size
from tests.helpers.fake_data.pastis import make_pastis
from tests.helpers.fake_data.treesatai import make_treesatai

CFG = 'configs/anysat/anysat_{}.py'
FLAIR = 'sublinear_3xb32-100e_flair-p10m'
TSAI = {
    'linear_3xb128-100e_treesatai-ts-p10m': False,
    'linear-probe_3xb128-100e_treesatai-ts-p10m': True,
}
PASTIS = {
    'sublinear_8xb1-100e_pastis-hd-p40m': False,
    'sublinear-probe_8xb1-100e_pastis-hd-p40m': True,
}


@pytest.fixture(scope='module')
def fake_tsai_ts(tmp_path_factory):
    root = tmp_path_factory.mktemp('treesatai_ts')
    make_treesatai(root, time_series=True)
    return root


@pytest.fixture(scope='module')
def fake_pastis_hd(tmp_path_factory):
    root = tmp_path_factory.mktemp('pastis_hd')
    # 160 m tiles: 16 px of Sentinel, 160 px of SPOT at 1 m (AnySat's SPOT grid);
    # one patch per fold
    make_pastis(root, n_patches=5, size=16, hr_scale=10)
    return root


@pytest.mark.parametrize('name', list(TSAI))
def test_treesatai_ts_configs(name, fake_tsai_ts, tmp_path):
    frozen = TSAI[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    check_common(cfg, frozen)
    model = cfg.model
    assert model.type == 'ImageClassifier'
    assert model.data_preprocessor.task == 'cls'
    assert model.backbone.modalities == ['aerial', 's2', 's1-asc']
    assert model.backbone.patch_size == 10
    assert model.backbone.output == 'tile'
    assert model.neck == dict(type='eofm.TokensToMap', out_type='pooled')
    assert model.head.type == 'MultiLabelLinearClsHead'
    assert model.head.num_classes == 15 and model.head.in_channels == 768
    assert model.head.loss.use_sigmoid
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.auto_scale_lr.base_batch_size == 384
    assert cfg.train_dataloader.dataset.type == 'eofm.TreeSatAITS'
    assert cfg.test_dataloader.dataset.split == 'test'
    assert tuple(cfg.train_dataloader.dataset.pipeline[-1].modalities) == ('aerial',
                                                                           's2',
                                                                           's1_asc')
    # CPU size
    model.head.in_channels = TINY_DIM
    shrink(cfg, fake_tsai_ts, batch_size=2)
    metrics = train(cfg, frozen)
    for key in ('multi-label/f1-score_weighted', 'multi-label/f1-score',
                'multi-label/f1-score_micro', 'multi-label/mAP'):
        assert key in metrics and math.isfinite(metrics[key]), metrics


@pytest.mark.parametrize('name', list(PASTIS))
def test_pastis_hd_configs(name, fake_pastis_hd, tmp_path):
    frozen = PASTIS[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    check_common(cfg, frozen)
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.data_preprocessor.task == 'seg'
    assert model.backbone.modalities == ['s2', 's1', 'spot']
    assert model.backbone.patch_size == 40
    assert model.neck == dict(type='eofm.TokensToMap', out_type='map')
    head = model.decode_head
    assert head.type == 'eofm.SubPatchLinearSegHead'
    assert head.in_channels == 768 and head.num_classes == 19
    assert head.scale == 4 and head.ignore_index == 19
    assert cfg.param_scheduler[0].type == 'ReduceOnPlateauLR'
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.auto_scale_lr.base_batch_size == 8
    assert cfg.train_dataloader.dataset.type == 'eofm.PASTISHD'
    assert cfg.val_dataloader.dataset.folds == [4]
    assert cfg.test_dataloader.dataset.folds == [5]
    assert list(
        cfg.train_dataloader.dataset.pipeline[-1].modalities) == ['s2', 's1', 'spot']
    # CPU size; two training tiles (folds 1, 2), one validation tile (fold 4)
    head.in_channels = TINY_DIM
    shrink(cfg, fake_pastis_hd, batch_size=1)
    cfg.train_dataloader.dataset.folds = [1, 2]
    metrics = train(cfg, frozen)
    assert 'mIoU' in metrics and math.isfinite(metrics['mIoU']), metrics


@pytest.fixture(scope='module')
def fake_flair(tmp_path_factory):
    root = tmp_path_factory.mktemp('flair')
    make_flair_full_size(root)
    return root


def test_flair_config(fake_flair, tmp_path):
    cfg = load_train_config(CFG.format(FLAIR), tmp_path / 'work')
    check_common(cfg, False)
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.data_preprocessor.task == 'seg'
    assert model.backbone.modalities == ['aerial-flair', 's2']
    assert model.backbone.patch_size == 10
    assert model.neck == dict(type='eofm.TokensToMap', out_type='map')
    head = model.decode_head
    assert head.type == 'eofm.SubPatchLinearSegHead'
    assert head.in_channels == 768 and head.num_classes == 13 and head.scale == 5
    assert cfg.param_scheduler[0].type == 'ReduceOnPlateauLR'
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.auto_scale_lr.base_batch_size == 96
    assert cfg.train_dataloader.dataset.type == 'eofm.FLAIR2'
    types = [t.type for t in cfg.val_dataloader.dataset.pipeline]
    assert 'eofm.AlignedCenterCrop' in types
    # CPU size: 3 training patches in batches of 2, one test patch
    head.in_channels = TINY_DIM
    shrink(cfg, fake_flair, batch_size=2)
    metrics = train(cfg, False)
    assert 'mIoU' in metrics and math.isfinite(metrics['mIoU']), metrics
