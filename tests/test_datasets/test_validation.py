"""The validation layer: labels against classes (and the model), lon / lat, raw
values against the declared scaling, channel means against the normalisation,
numeric transform arguments, the all-invalid-modality policy and 1-pixel flips."""
import json
import logging
import os.path as osp

import numpy as np
import pytest
import torch

from eofm.datasets import MultiModalDataset
from eofm.datasets.transforms import (AppendBandRatio, AlignedRandomCrop, AlignedRandomFlip,
                                      AlignedRandomResizedCrop, AlignedRandomRot90,
                                      DateJitter, FilterCloudyDates, LoadMultiModalTiles,
                                      MultiModalMultiView, PackMultiModalInputs,
                                      RandomGaussianBlur)
from eofm.datasets.validation import (label_problems, lonlat_problems,
                                      normalization_problems, scaling_problem)


@pytest.mark.parametrize('build, match', [
    (lambda: AlignedRandomCrop(size=0), 'AlignedRandomCrop: size must be a positive'),
    (lambda: AlignedRandomCrop(size=-64), 'got -64'),
    (lambda: AlignedRandomCrop(size=(64, 0)), r'got \(64, 0\)'),
    (lambda: AlignedRandomResizedCrop(size=0), 'AlignedRandomResizedCrop: size'),
    (lambda: AlignedRandomResizedCrop(size=32, scale=(0.9, 0.2)), 'min <= max'),
    (lambda: AlignedRandomResizedCrop(size=32, scale=(0.0, 1.0)), 'scale must be'),
    (lambda: AlignedRandomResizedCrop(size=32, ratio=(0, 1)), 'ratio must be'),
    (lambda: AlignedRandomFlip(prob=2), r'AlignedRandomFlip: prob must be .*got 2'),
    (lambda: AlignedRandomRot90(prob=-0.1), 'AlignedRandomRot90: prob'),
    (lambda: DateJitter(['s2'], max_shift=2.5), 'max_shift must be an int'),
    (lambda: FilterCloudyDates(min_dates=0), 'min_dates must be an int >= 1'),
    (lambda: FilterCloudyDates(max_cloud_fraction=1.5), 'max_cloud_fraction'),
    (lambda: RandomGaussianBlur(sigma=(0, 2)), 'sigma must be'),
    (lambda: LoadMultiModalTiles(dict(s2=dict(gsd=0))), r'modalities.s2.gsd must'),
    (lambda: LoadMultiModalTiles(dict(s2=dict(size=(0, 4)))), r'modalities.s2.size'),
    (lambda: AppendBandRatio('s2', numerator=-1), 'numerator must be an int >= 0'),
    (lambda: MultiModalMultiView([[]], num_views=0), 'num_views must be an int >= 1'),
])
def test_numeric_transform_arguments_are_checked_at_build(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_one_pixel_modality_packs_after_flips_and_rotations():
    """A 10 km modality over a small tile is 1 px wide: numpy keeps the negative
    stride of its flipped axis in a 'contiguous' view, which torch refuses."""
    rng = np.random.default_rng(0)
    results = dict(
        s2=rng.random((3, 4, 5, 1), dtype=np.float32),
        s2_mask=np.ones((3, 5, 1), bool),
        hr=rng.random((3, 40, 8), dtype=np.float32),
        gt_seg_map=np.arange(5, dtype=np.int64).reshape(5, 1))

    def fresh():
        return dict({k: v.copy() for k, v in results.items()},
                    modalities_present=['s2', 'hr'])

    flipped = AlignedRandomFlip(prob=1.0, directions=['horizontal', 'vertical'])(
        fresh())
    packed = PackMultiModalInputs(['s2', 'hr'])(flipped)
    assert torch.equal(packed['inputs']['s2'],
                       torch.from_numpy(results['s2'][:, :, ::-1, ::-1].copy()))
    assert packed['data_samples'].gt_seg_map.flatten().tolist() == [4, 3, 2, 1, 0]
    np.random.seed(1)
    rotated = AlignedRandomRot90(prob=1.0)(fresh())
    PackMultiModalInputs(['s2', 'hr'])(rotated)  # no negative-stride error


def test_label_problems_against_classes_ignore_index_and_model():
    classes = ['a', 'b', 'c', 'd', 'e']
    seg = np.array([[0, 4], [255, 200]])
    assert label_problems(dict(gt_seg_map=seg), classes) == [
        'gt_seg_map: values [200] are outside 0..4 of the 5 classes of the dataset '
        '(ignore_index 255 is allowed)'
    ]
    assert label_problems(dict(gt_label=9), classes) == [
        'gt_label: values [9] are outside 0..4 of the 5 classes of the dataset'
    ]
    assert label_problems(dict(gt_label=-1), classes)
    assert label_problems(dict(gt_label=4, gt_labels=[0, 1, 0, 0, 1]), classes) == []
    # multi-hot vectors have one entry per class the model predicts (PASTIS: the
    # 18 crops of its 20 classes)
    assert label_problems(dict(gt_labels=[0, 1]), classes) == []
    assert 'expected one per class' in label_problems(dict(gt_labels=[0, 1]),
                                                      classes, num_classes=3)[0]
    # the model's ignore index (PASTIS' void class) is allowed too
    assert label_problems(dict(gt_seg_map=np.array([0, 19, 255])), ['c'] * 19,
                          (255, 19), num_classes=19) == []
    assert 'not multi-hot' in label_problems(dict(gt_labels=[0, 2, 0, 0, 0]),
                                             classes)[0]
    # the model predicts 3 classes: label 4 fits the dataset, not the model
    assert label_problems(dict(gt_label=4), classes, num_classes=3) == [
        "gt_label: values [4] are outside 0..2 of the model's num_classes=3"
    ]
    # per-field class lists (TreeSatAI: gt_label indexes the species)
    assert label_problems(dict(gt_label=19), dict(gt_label=['s'] * 20)) == []


def test_lonlat_and_scaling_checks():
    assert lonlat_problems(dict(lon=11.5, lat=48.1)) == []
    assert 'geo.lat: 95' in lonlat_problems(dict(lon=151.2, lat=95))[0]
    assert 'geo.lon' in lonlat_problems(dict(lon=500000.0, lat=10))[0]
    assert lonlat_problems(dict(lon=None, lat=None)) == []
    ok = np.ones((2, 4, 4), bool)
    dn = np.full((2, 4, 4), 1500.0)
    assert scaling_problem('reflectance', dn, ok) is None
    assert 'reflectance already' in scaling_problem('reflectance', dn / 1e4, ok)
    assert 'not 8-bit' in scaling_problem('uint8', dn, ok)
    assert scaling_problem('uint8', np.full((1, 2, 2), 200.0), ok[:1, :2, :2]) is None
    assert 'scaled already' in scaling_problem('uint8', np.full((1, 2, 2), 0.4),
                                               ok[:1, :2, :2])
    assert 'dB already' in scaling_problem('db', np.full((2, 4, 4), -12.0), ok)
    assert scaling_problem('db', np.full((2, 4, 4), 0.05), ok) is None
    # nodata does not count: only the valid values are judged
    assert scaling_problem('uint8', dn, np.zeros_like(ok)) is None


def test_normalization_problems_flag_far_channels_only():
    rng = np.random.default_rng(0)
    x = rng.normal(0.2, 0.1, (2, 16, 16)).astype(np.float32)
    assert normalization_problems('hr', x, None, [0.2, 0.2], [0.1, 0.1]) == []
    far = normalization_problems('hr', x * 300, None, [0.2, 0.2], [0.1, 0.1])
    assert far and 'hr: data not in the scale' in far[0] and 'channel 1' in far[0]
    assert '3 channels' in normalization_problems('hr', x[:1].repeat(3, 0), None,
                                                  [0.2, 0.2], [0.1, 0.1])[0]


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    from eofm.datasets.sample_data import generate
    from tests.helpers.fake_geo import write_geotiff
    from osgeo import gdal
    root = str(tmp_path_factory.mktemp('policy'))
    generate(root, num_tiles=8, size=16, hr_factor=2, seed=0)
    ann = json.load(open(osp.join(root, 'train.json')))
    bad = ann['data_list'][0]
    src = osp.join(root, bad['modalities']['s1']['path'])
    ds = gdal.Open(src)
    gt, epsg, n = ds.GetGeoTransform(), int(
        ds.GetSpatialRef().GetAuthorityCode(None)), ds.RasterCount
    ds = None
    write_geotiff(src, np.full((n, 16, 16), np.nan, np.float32), origin=(gt[0], gt[3]),
                  epsg=epsg, band_names=['VV', 'VH'] * (n // 2))
    return root, bad['sample_id'], len(ann['data_list'])


def _dataset(root, **kw):
    load = dict(type='eofm.LoadMultiModalTiles', reference='s2',
                modalities=dict(s2=dict(bands=['B2', 'B3'], scale='reflectance'),
                                s1=dict(bands=['VV', 'VH'], scale='db')))
    pipeline = [load, dict(type='eofm.PackMultiModalInputs', modalities=['s2', 's1'])]
    return MultiModalDataset(ann_file='train.json', data_root=root, pipeline=pipeline,
                             **kw)


def test_all_invalid_policy_skip_drop_error(sample_root, caplog):
    root, bad_id, n = sample_root
    ds = _dataset(root)  # training: 'skip'
    assert ds.all_invalid == 'skip'
    assert ds.prepare_data(0) is None  # BaseDataset draws another sample
    np.random.seed(0)
    item = ds[0]
    assert item['data_samples'].sample_id != bad_id
    assert ds.num_all_invalid >= 1
    test = _dataset(root, test_mode=True)  # evaluation keeps every sample
    assert test.all_invalid == 'drop'
    item = test[0]
    assert item['data_samples'].sample_id == bad_id
    assert 's1' not in item['inputs'] and 's1_mask' not in item['inputs']
    assert 's2' in item['inputs']
    with pytest.raises(ValueError, match=rf"sample {bad_id}: modality 's1' has no "
                       r"valid pixel .*all_invalid='error'"):
        _dataset(root, all_invalid='error')[0]
    with pytest.raises(ValueError, match='all_invalid must be one of'):
        _dataset(root, all_invalid='zeros')


def test_labels_beyond_the_classes_or_the_model_name_the_sample(sample_root):
    root, bad_id, n = sample_root
    ann = json.load(open(osp.join(root, 'train.json')))
    ann['data_list'][1]['gt_label'] = 9
    sid = ann['data_list'][1]['sample_id']
    json.dump(ann, open(osp.join(root, 'labels9.json'), 'w'))
    load = dict(type='eofm.LoadMultiModalTiles', modalities=dict(
        s2=dict(bands=['B2'], scale='reflectance')))
    ds = MultiModalDataset(ann_file='labels9.json', data_root=root, pipeline=[
        load, dict(type='eofm.PackMultiModalInputs', modalities=['s2'])])
    with pytest.raises(ValueError, match=rf'labels9.json: sample {sid}: gt_label: '
                       r'values \[9\] are outside 0..4'):
        ds[1]
    ds.prepare_data(2)  # a good one
    ds.model_num_classes = 1  # as DataContractHook sets before training
    label = ann['data_list'][2]['gt_label']
    if label >= 1:
        with pytest.raises(ValueError, match=r"model's num_classes=1"):
            ds.prepare_data(2)


def test_model_num_classes_reaches_the_datasets():
    from types import SimpleNamespace

    from eofm.engine.hooks.data_contract_hook import (DataContractHook,
                                                      model_num_classes)
    model = torch.nn.Module()
    model.decode_head = SimpleNamespace(num_classes=7)
    assert model_num_classes(model) == 7
    assert model_num_classes(torch.nn.Linear(2, 2)) is None

    class _Leaf(torch.utils.data.Dataset):
        model_num_classes = None
        metainfo = {}

        def __len__(self):
            return 1

    a, b = _Leaf(), _Leaf()
    concat = SimpleNamespace(datasets=[a, SimpleNamespace(dataset=b)])  # + Repeat
    runner = SimpleNamespace(model=model,
                             train_dataloader=SimpleNamespace(dataset=concat))
    DataContractHook({}).before_train(runner)
    assert a.model_num_classes == b.model_num_classes == 7


def test_ten_km_pixels_over_a_tile_load_flip_and_pack(sample_root):
    """A modality read at 10 km pixels over a 160 m tile is 1 x 1 px: it loads,
    flips and packs (it gave a negative-stride error in the packing)."""
    root, bad_id, n = sample_root
    ann = json.load(open(osp.join(root, 'train.json')))
    entry = ann['data_list'][1]
    mods = {k: dict(v, path=osp.join(root, v['path'])) for k, v in
            entry['modalities'].items()}
    load = LoadMultiModalTiles(dict(s2=dict(bands=['B2', 'B3'], scale='reflectance'),
                                    coarse=dict(bands=['B2'], scale='reflectance',
                                                gsd=10000.0)), reference='s2')
    mods['coarse'] = mods['s2']
    out = load(dict(sample_id=entry['sample_id'], modalities=mods, label_maps={}))
    assert out['coarse'].shape[-2:] == (1, 1)
    out = AlignedRandomFlip(prob=1.0, directions=['horizontal', 'vertical'])(out)
    packed = PackMultiModalInputs(['s2', 'coarse'])(out)
    assert packed['inputs']['coarse'].shape[-2:] == (1, 1)
