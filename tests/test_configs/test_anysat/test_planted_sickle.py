"""The AnySat PLANTED and SICKLE configs keep the paper's setup and run on CPU through
the code path of tools/train.py: each builds with the 'tiny' AnySat on a fake
dataset in the official layout, trains two iterations and evaluates once; the linear
probe leaves the encoder unchanged. SICKLE uses the paper's 6.1K linear head on
AnySat's 'dense' output, whose map is on the label grid (no upsampling)."""
import math

import pytest

import eofm.datasets.planted  # noqa: F401
import eofm.datasets.sickle  # noqa: F401
from tests.helpers.anysat_config_helpers import TINY_DIM, check_common, shrink, train
from tests.helpers.config_helpers import load_train_config
from tests.helpers.fake_data.planted import make_planted
from tests.helpers.fake_data.sickle import make_sickle
from tests.test_configs.test_anysat.test_seg_benchmarks import (  # noqa: F401
    check_dense_head, no_resize)

CFG = 'configs/anysat/anysat_{}.py'
PLANTED = 'linear_8xb256-100e_planted-p30m'
SICKLE = {
    'linear_8xb16-100e_sickle-p10m': False,
    'linear-probe_8xb16-100e_sickle-p10m': True,
}


@pytest.fixture(scope='module')
def fake_planted(tmp_path_factory):
    root = tmp_path_factory.mktemp('planted')
    make_planted(root)
    return root


@pytest.fixture(scope='module')
def fake_sickle(tmp_path_factory):
    root = tmp_path_factory.mktemp('sickle')
    make_sickle(root)
    return root


def test_planted_config(fake_planted, tmp_path):
    cfg = load_train_config(CFG.format(PLANTED), tmp_path / 'work')
    check_common(cfg, False)
    model = cfg.model
    assert model.type == 'ImageClassifier'
    assert model.data_preprocessor.task == 'cls'
    assert model.backbone.modalities == ['s2', 's1', 'l7', 'alos', 'modis']
    assert model.backbone.patch_size == 30 and model.backbone.output == 'tile'
    assert model.neck == dict(type='eofm.TokensToMap', out_type='pooled')
    assert model.head.type == 'LinearClsHead'
    assert model.head.num_classes == 40 and model.head.in_channels == 768
    norm = model.data_preprocessor.normalize
    assert [len(norm[m].mean)
            for m in ('s2', 's1', 'l7', 'alos', 'modis')] == [10, 3, 6, 3, 7]
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
    assert cfg.val_evaluator[0] == dict(type='SingleLabelMetric', average='macro')
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.auto_scale_lr.base_batch_size == 2048
    assert cfg.train_dataloader.dataset.type == 'eofm.PLANTED'
    assert cfg.test_dataloader.dataset.split == 'test'
    steps = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert steps.index('eofm.LoadPlantedDates') < steps.index(
        'eofm.LoadMultiModalTiles') < steps.index('eofm.LoadPlantedMasks')
    # CPU size: two training tiles, one validation tile
    model.head.in_channels = TINY_DIM
    shrink(cfg, fake_planted, batch_size=1)
    metrics = train(cfg, False)
    for key in ('single-label/f1-score', 'accuracy/top1'):
        assert key in metrics and math.isfinite(metrics[key]), metrics


@pytest.mark.parametrize('name', list(SICKLE))
def test_sickle_configs(name, fake_sickle, tmp_path, no_resize):  # noqa: F811
    frozen = SICKLE[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    check_common(cfg, frozen)
    model = cfg.model
    assert model.type == 'EncoderDecoder'
    assert model.data_preprocessor.task == 'seg'
    assert model.backbone.modalities == ['s2', 's1', 'l8']
    assert model.backbone.patch_size == 10
    check_dense_head(model, 's2')  # head.in_channels -> 2 * TINY_DIM
    assert cfg.param_scheduler[0].type == 'ReduceOnPlateauLR'
    assert cfg.param_scheduler[0].monitor == 'mIoU'
    assert cfg.train_dataloader.dataset.type == 'eofm.SICKLE'
    assert cfg.val_dataloader.dataset.split == 'val'
    assert cfg.test_dataloader.dataset.split == 'val'
    pipeline = cfg.train_dataloader.dataset.pipeline
    arrange = next(t for t in pipeline if t.type == 'eofm.ArrangeBands')
    assert len(arrange.dst) == 11 and arrange.dst[9] == 'ST_B10'
    assert arrange.dst[1:8] == [f'SR_B{i}' for i in range(1, 8)]
    s2_bands = pipeline[0].modalities.s2.bands
    assert s2_bands.index('B8A') == s2_bands.index('B8') - 1
    # CPU size: series read on an 8 x 8 grid (64 patches of 10 m instead of 1024);
    # two training tiles, one validation tile
    shrink(cfg, fake_sickle, batch_size=1)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        for mcfg in loader.dataset.pipeline[0].modalities.values():
            mcfg.size = (8, 8)
    metrics = train(cfg, frozen)
    assert 'mIoU' in metrics and math.isfinite(metrics['mIoU']), metrics
