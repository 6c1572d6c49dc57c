"""Normalisation carried with the weights, and normalisation statistics by file."""
import json

import pytest
import torch
from mmengine.config import Config

from eofm.apis import apply_checkpoint_normalization
from eofm.apis.checkpoint_normalization import config_checkpoints
from eofm.datasets.normalization import NormalizationFileError, resolve_normalize
from eofm.engine.hooks.data_contract_hook import CONTRACT_KEY
from eofm.models.common import MultiModalDataPreprocessor
from eofm.utils.checkpoint import data_contract_of


def _checkpoint(path, contract):
    torch.save(dict(state_dict=dict(w=torch.zeros(1)), meta={CONTRACT_KEY: contract}),
               path)
    return str(path)


def _cfg(bands, normalize=None, **pre):
    load = dict(type='eofm.LoadMultiModalTiles',
                modalities=dict(s2=dict(bands=bands, scale='reflectance')))
    return Config(dict(
        model=dict(type='X', data_preprocessor=dict(
            type='eofm.MultiModalDataPreprocessor', normalize=normalize, **pre)),
        train_dataloader=dict(dataset=dict(type='eofm.MultiModalDataset',
                                           pipeline=[load]))))


CONTRACT = dict(s2=dict(bands=['B2', 'B3', 'B4'], scale='reflectance',
                        mean=[0.1, 0.2, 0.3], std=[0.01, 0.02, 0.03]),
                s1=dict(bands=['VV', 'VH'], mean=[-12.0, -19.0], std=[7.0, 7.0]))


def test_statistics_of_the_weights_replace_the_config_s_reordered_by_band(tmp_path):
    ckpt = _checkpoint(tmp_path / 'pre.pth', CONTRACT)
    cfg = _cfg(['B4', 'B2', 'B3'], dict(s2=dict(mean=[9, 9, 9], std=[1, 1, 1])))
    cfg.load_from = ckpt
    assert config_checkpoints(cfg) == [('load_from', ckpt)]
    assert apply_checkpoint_normalization(cfg) == dict(s2='checkpoint', s1='checkpoint')
    norm = cfg.model.data_preprocessor.normalize
    assert norm['s2'] == dict(mean=[0.3, 0.1, 0.2], std=[0.03, 0.01, 0.02])
    assert norm['s1'] == dict(mean=[-12.0, -19.0], std=[7.0, 7.0])
    pre = MultiModalDataPreprocessor(**{k: v for k, v in cfg.model.data_preprocessor.items()
                                        if k != 'type'})
    assert torch.allclose(pre._s2_mean, torch.tensor([0.3, 0.1, 0.2]))


def test_the_config_keeps_its_own_on_purpose_or_when_bands_do_not_match(tmp_path):
    ckpt = _checkpoint(tmp_path / 'pre.pth', CONTRACT)
    ours = dict(s2=dict(mean=[9, 9, 9], std=[1, 1, 1]))
    cfg = _cfg(['B2', 'B3', 'B4'], dict(ours), normalize_from='config')
    cfg.model.backbone = dict(init_cfg=dict(type='Pretrained', checkpoint=ckpt,
                                            prefix='backbone.'))
    assert config_checkpoints(cfg) == [('model.backbone.init_cfg', ckpt)]
    assert apply_checkpoint_normalization(cfg)['s2'] == 'config'
    assert cfg.model.data_preprocessor.normalize['s2'] == ours['s2']
    # B8 was not among the trained bands: the checkpoint's statistics cannot serve
    cfg = _cfg(['B2', 'B8'], dict(s2=dict(mean=[1, 2], std=[1, 1])))
    cfg.load_from = ckpt
    assert apply_checkpoint_normalization(cfg)['s2'] == 'config'
    assert cfg.model.data_preprocessor.normalize['s2'] == dict(mean=[1, 2], std=[1, 1])


def test_no_contract_changes_nothing(tmp_path):
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict={}), plain)
    cfg = _cfg(['B2'], dict(s2=dict(mean=[1], std=[1])))
    cfg.load_from = str(plain)
    assert data_contract_of(str(plain)) == {}
    assert apply_checkpoint_normalization(cfg) == {}
    cfg.load_from = str(tmp_path / 'missing.pth')  # the loader reports it later
    assert apply_checkpoint_normalization(cfg) == {}
    assert cfg.model.data_preprocessor.normalize == dict(s2=dict(mean=[1], std=[1]))


def test_statistics_by_file(tmp_path):
    stats = tmp_path / 'stats.json'
    # the layout tools/analysis_tools/dataset_stats.py --out writes
    json.dump(dict(split='train', normalize=dict(s2=dict(mean=[0.1, 0.2], std=[1, 2]))),
              open(stats, 'w'))
    pre = MultiModalDataPreprocessor(normalize=str(stats))
    assert torch.allclose(pre._s2_std, torch.tensor([1.0, 2.0]))
    both = resolve_normalize(dict(s2=str(stats), hr=dict(mean=[0], std=[1])))
    assert both['s2']['mean'] == [0.1, 0.2] and both['hr']['std'] == [1]
    with pytest.raises(NormalizationFileError, match="has no statistics of 's1'"):
        resolve_normalize(dict(s1=str(stats)))
    with pytest.raises(NormalizationFileError, match='does not exist'):
        MultiModalDataPreprocessor(normalize=str(tmp_path / 'none.json'))
    (tmp_path / 'bad.json').write_text('{"normalize": {"s2": [1, 2]}}')
    with pytest.raises(NormalizationFileError, match='expected'):
        resolve_normalize(str(tmp_path / 'bad.json'))
    with pytest.raises(ValueError, match="normalize_from must be 'checkpoint' or"):
        MultiModalDataPreprocessor(normalize_from='data')
