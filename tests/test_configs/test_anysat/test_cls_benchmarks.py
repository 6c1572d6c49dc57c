"""The AnySat So2Sat LCZ42 and TimeSen2Crop configs (supplementary Table B) keep the
paper's setup and run on CPU through the code path of tools/train.py: each builds
with the 'tiny' AnySat on a fake of the official layout, trains two iterations and
evaluates once; the linear-probing configs leave the encoder unchanged."""
import math

import pytest

import eofm.datasets.so2sat  # noqa: F401
import eofm.datasets.timesen2crop  # noqa: F401
from tests.helpers.anysat_config_helpers import TINY_DIM, check_common, shrink, train
from tests.helpers.config_helpers import load_train_config
from tests.helpers.fake_data.so2sat import make_so2sat
from tests.helpers.fake_data.timesen2crop import make_timesen2crop

CFG = 'configs/anysat/anysat_{}.py'
SO2SAT = 'linear-probe_1xb128-100e_so2sat-p10m'
TS2C = {
    'linear_1xb2048-100e_timesen2crop-p10m': False,
    'linear-probe_1xb2048-100e_timesen2crop-p10m': True,
}


def _check_cls(cfg, num_classes):
    model = cfg.model
    assert model.type == 'ImageClassifier'
    assert model.data_preprocessor.type == 'eofm.MultiModalDataPreprocessor'
    assert model.data_preprocessor.task == 'cls'
    assert model.backbone.patch_size == 10
    assert model.backbone.output == 'tile'
    assert model.neck == dict(type='eofm.TokensToMap', out_type='pooled')
    assert model.head.type == 'LinearClsHead'
    assert model.head.num_classes == num_classes and model.head.in_channels == 768
    assert model.head.loss.type == 'CrossEntropyLoss'
    assert not model.head.loss.get('use_sigmoid', False)
    assert [s.type for s in cfg.param_scheduler] == ['LinearLR', 'CosineAnnealingLR']
    assert cfg.val_evaluator == dict(type='Accuracy', topk=(1, ))
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[name].collate_fn == dict(type='eofm.multimodal_collate')


@pytest.fixture(scope='module')
def fake_so2sat(tmp_path_factory):
    root = tmp_path_factory.mktemp('so2sat')
    make_so2sat(root)
    return root


@pytest.fixture(scope='module')
def fake_ts2c(tmp_path_factory):
    root = tmp_path_factory.mktemp('timesen2crop')
    make_timesen2crop(root)
    return root


def test_so2sat_linear_probe_config(fake_so2sat, tmp_path):
    cfg = load_train_config(CFG.format(SO2SAT), tmp_path / 'work')
    check_common(cfg, frozen=True)
    _check_cls(cfg, 17)
    assert cfg.model.backbone.modalities == ['s2', 's1']
    assert cfg.train_dataloader.dataset.type == 'eofm.So2SatLCZ42'
    assert cfg.test_dataloader.dataset.split == 'test'
    pipeline = cfg.train_dataloader.dataset.pipeline
    assert pipeline[0].modalities.s1.bands == ['VV_lee', 'VH_lee']
    assert pipeline[1].type == 'eofm.AppendBandRatio'
    assert tuple(pipeline[-1].modalities) == ('s2', 's1')
    # CPU size: 5 training samples in batches of 3
    cfg.model.head.in_channels = TINY_DIM
    shrink(cfg, fake_so2sat, batch_size=3)
    metrics = train(cfg, frozen=True)
    assert 'accuracy/top1' in metrics and math.isfinite(metrics['accuracy/top1'])


@pytest.mark.parametrize('name', list(TS2C))
def test_timesen2crop_configs(name, fake_ts2c, tmp_path):
    frozen = TS2C[name]
    cfg = load_train_config(CFG.format(name), tmp_path / 'work')
    check_common(cfg, frozen)
    _check_cls(cfg, 16)
    assert cfg.model.backbone.modalities == ['s2']
    assert cfg.train_dataloader.batch_size == 2048
    assert cfg.auto_scale_lr.base_batch_size == 2048
    assert cfg.train_dataloader.dataset.type == 'eofm.TimeSen2Crop'
    assert cfg.test_dataloader.dataset.split == 'test'
    arrange = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t.type == 'eofm.ArrangeBands'
    ]
    assert arrange and arrange[0].dst[6] == 'B8' and 'B8' not in arrange[0].src
    # CPU size: 6 training pixels in batches of 3
    cfg.model.head.in_channels = TINY_DIM
    shrink(cfg, fake_ts2c, batch_size=3)
    metrics = train(cfg, frozen)
    assert 'accuracy/top1' in metrics and math.isfinite(metrics['accuracy/top1'])
