"""MultiModalDataset -> LoadMultiModalTiles -> TemporalSample -> Pack -> preprocessor."""
import json

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from eofm.datasets import MultiModalDataset, multimodal_collate
from eofm.models import MultiModalDataPreprocessor
from tests.helpers.fake_geo import write_geotiff


def _write_dataset(root, n_dates=(3, 5)):
    data_list = []
    for i, nd in enumerate(n_dates):
        hr = write_geotiff(root / f'hr{i}.tif',
                           np.full((3, 20, 20), 10 * (i + 1), np.uint8),
                           (500000.0 + 1000 * i, 5000020.0), 1.0)
        s2 = write_geotiff(root / f's2_{i}.tif', np.full(
            (4 * nd, 2, 2), 1000, np.uint16), (500000.0 + 1000 * i, 5000020.0), 10.0)
        dates = [f'2020-0{d + 1}-15' for d in range(nd)]
        data_list.append(
            dict(
                sample_id=f't{i}',
                gt_label=i,
                modalities=dict(
                    hr=dict(path=f'hr{i}.tif'),
                    s2=dict(
                        path=f's2_{i}.tif', dates=dates, bands=['B2', 'B3', 'B4',
                                                                'B8']))))
    ann = root / 'ann.json'
    ann.write_text(
        json.dumps(dict(metainfo=dict(classes=['a', 'b']), data_list=data_list)))
    return str(ann)


def _pipeline(temporal=True):
    p = [
        dict(
            type='eofm.LoadMultiModalTiles',
            modalities=dict(
                hr=dict(scale='uint8'),
                s2=dict(bands=['B4', 'B8'], scale='reflectance')))
    ]
    if temporal:
        p.append(dict(type='eofm.TemporalSample', lengths=dict(s2=4), mode='even'))
    p.append(dict(type='eofm.PackMultiModalInputs', modalities=['hr', 's2']))
    return p


def test_dataset_to_batch(tmp_path):
    ann = _write_dataset(tmp_path)
    ds = MultiModalDataset(
        ann_file='ann.json', data_root=str(tmp_path), pipeline=_pipeline())
    assert len(ds) == 2 and ds.metainfo['classes'] == ['a', 'b']
    items = [ds[0], ds[1]]
    assert items[0]['inputs']['s2'].shape == (4, 2, 2, 2)  # 3 dates padded to 4
    assert items[0]['inputs']['s2_date_mask'].tolist() == [True, True, True, False]
    assert items[1]['inputs']['s2_doy'].tolist() == [15, 46, 106, 136]  # even: 0,1,3,4
    pre = MultiModalDataPreprocessor(
        normalize=dict(s2=dict(mean=[0.1, 0.1], std=[0.5, 0.5])))
    out = pre(pseudo_collate(items))
    x = out['inputs']
    assert x['hr'].shape == (2, 3, 20, 20)
    assert x['s2'].shape == (2, 4, 2, 2, 2)
    # (0.1 - 0.1) / 0.5 = 0 on real dates; padded dates are zeros as well.
    assert torch.allclose(x['s2'], torch.zeros_like(x['s2']))
    assert x['s2_present'].tolist() == [True, True]
    assert [s.gt_label.item() for s in out['data_samples']] == [0, 1]
    geo = out['data_samples'][1].geo
    assert geo['bounds'][0] == 501000.0
    assert torch.allclose(x['lonlat'][1], torch.tensor([geo['lon'], geo['lat']]))


def test_preprocessor_pads_series_without_temporal_sampling(tmp_path):
    ann = _write_dataset(tmp_path)
    ds = MultiModalDataset(
        ann_file='ann.json',
        data_root=str(tmp_path),
        pipeline=_pipeline(temporal=False))
    out = MultiModalDataPreprocessor()(multimodal_collate([ds[0], ds[1]]))['inputs']
    assert out['s2'].shape == (2, 5, 2, 2, 2)
    assert out['s2_date_mask'].tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert out['s2_doy'][0].tolist() == [15, 46, 75, 0, 0]


def test_preprocessor_marks_missing_modality():
    a = dict(hr=torch.ones(3, 4, 4), hr_mask=torch.ones(4, 4, dtype=torch.bool))
    b = dict(
        hr=torch.ones(3, 4, 4),
        hr_mask=torch.ones(4, 4, dtype=torch.bool),
        s1=torch.ones(2, 2, 4, 4),
        s1_mask=torch.ones(2, 4, 4, dtype=torch.bool),
        s1_doy=torch.tensor([10, 20]))
    out = MultiModalDataPreprocessor()(dict(inputs=[a, b], data_samples=None))['inputs']
    assert out['s1_present'].tolist() == [False, True]
    assert out['s1'].shape == (2, 2, 2, 4, 4) and out['s1'][0].abs().sum() == 0
    assert out['s1_date_mask'].tolist() == [[False, False], [True, True]]


def test_missing_annotation_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='annotation file .*nope.json'):
        MultiModalDataset(ann_file='nope.json', data_root=str(tmp_path))


def test_bad_normalize_config():
    with pytest.raises(ValueError, match='normalize.s2: mean and std'):
        MultiModalDataPreprocessor(normalize=dict(s2=dict(mean=[1, 2], std=[1])))
