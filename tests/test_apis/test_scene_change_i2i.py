"""Scene inference of change detectors (two acquisitions, or two date ranges of one
series) and of image-to-image models (cloud removal, pan-sharpening), through the
shipped SkySense and msGFM configs shrunk to CPU size."""
import numpy as np
import pytest
import torch
from osgeo import gdal

from tests.helpers.config_helpers import ROOT, TINY_CHANNELS
from eofm.apis.runner_setup import load_config
from eofm.apis.scene_inference import SceneInferenceError, SceneInferencer
from tests.helpers.fake_geo import write_geotiff

LEVIR = ROOT + '/configs/skysense/skysense-hr_bit_4xb2-200e_levir-cd-256x256.py'
OSCD = ROOT + '/configs/skysense/skysense-s2_unet_1xb32-100e_oscd-96x96.py'
SEN12MS_CR = ROOT + '/configs/msgfm/msgfm_pixreg_8xb4-40k_sen12ms-cr-256px.py'
PANSHARPEN = ROOT + '/configs/msgfm/msgfm_pixreg_8xb4-40k_spacenet2-pansharpen-256px.py'
S2_13 = ['B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B10',
         'B11', 'B12']
ORIGIN = (500000.0, 5000000.0)


def _checkpoint(inferencer, path, seed=0):
    """Random weights (BN statistics included) saved and loaded strictly."""
    torch.manual_seed(seed)
    model = inferencer.runner.model
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def _levir_cfg():
    """The BIT config with SkySense's 'skysense-tiny' Swin V2, whole-window tests."""
    cfg = load_config(LEVIR)
    cfg.model.backbone.arch = 'skysense-tiny'
    cfg.model.backbone.pop('init_cfg')
    cfg.model.decode_head.update(in_channels=TINY_CHANNELS, channels=16,
                                 norm_cfg=dict(type='BN'))
    cfg.model.test_cfg = dict(mode='whole')
    return cfg


def _oscd_cfg(threshold=0.5):
    """The U-Net config (sigmoid change head) with a 4-layer 'skysense-tiny' ViT."""
    cfg = load_config(OSCD)
    bb = cfg.model.backbone
    bb.update(arch='skysense-tiny', num_layers=4, out_indices=(0, 1, 2, 3))
    bb.pop('init_cfg')
    cfg.model.neck.update(in_channels=[64] * 4, out_channels=16)
    cfg.model.decode_head.update(in_channels=[16] * 4, channels=16, threshold=threshold)
    cfg.model.test_cfg = dict(mode='whole')
    return cfg


def _pair(tmp_path, h=40, w=48):
    rng = np.random.default_rng(1)
    pre = rng.integers(1, 255, (3, h, w)).astype(np.uint8)
    post = pre.copy()
    post[:, 10:30, 20:40] = 255 - post[:, 10:30, 20:40]  # a change
    post[:, :, -6:] = 0  # nodata in the later image only
    kw = dict(origin=(ORIGIN[0], ORIGIN[1] + h), pixel=1.0, nodata=0,
              band_names=['R', 'G', 'B'])
    return dict(modalities=dict(
        pre=dict(path=write_geotiff(tmp_path / 'pre.tif', pre, **kw)),
        post=dict(path=write_geotiff(tmp_path / 'post.tif', post, **kw))))


def test_bit_change_map_of_two_acquisitions(tmp_path):
    """BIT (softmax head): the change map is the detector's own prediction for a
    window covering the scene, nodata where either acquisition is."""
    scene = _pair(tmp_path)
    # fp32: compared with the detector's own fp32 prediction below
    kw = dict(tile=48, overlap=0, progress=False, precision='fp32')
    inf = SceneInferencer(_levir_cfg(), outputs=('class', 'probs', 'confidence'), **kw)
    ckpt = _checkpoint(inf, tmp_path / 'bit.pth')
    inf = SceneInferencer(_levir_cfg(), ckpt, outputs=('class', 'probs', 'confidence'),
                          **kw)
    manifest = inf(scene, str(tmp_path / 'out'))
    assert manifest['task'] == 'change' and manifest['reference'] == 'pre'
    assert manifest['classes'] == ['no change', 'change']
    ds = gdal.Open(str(tmp_path / 'out' / 'class.tif'))
    ref = gdal.Open(scene['modalities']['pre']['path'])
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    assert ds.GetProjection() == ref.GetProjection()
    band = ds.GetRasterBand(1)
    assert band.GetNoDataValue() == 255 and band.GetMetadataItem('CLASS_1') == 'change'
    cls = band.ReadAsArray()
    assert (cls[:, -6:] == 255).all() and set(np.unique(cls[:, :-6])) <= {0, 1}
    # the detector's own prediction of the whole pair
    runner = inf.runner
    sample = runner.sample(scene['modalities'], (0, 0, 48, 40), 'all')
    from eofm.datasets import multimodal_collate
    data = runner.model.data_preprocessor(multimodal_collate([sample]), False)
    with torch.no_grad():
        pred = runner.model.predict(data['inputs'], data['data_samples'])[0]
    np.testing.assert_array_equal(cls[:, :-6], pred.pred_change_map.numpy()[:, :-6])
    # the probabilities are the softmax of the detector's change logits
    expected = np.rint(pred.change_logits.softmax(0).numpy() * 254)
    probs = gdal.Open(str(tmp_path / 'out' / 'probs.tif')).ReadAsArray().astype(int)
    assert probs.shape == (2, 40, 48) and (probs[:, :, -6:] == 255).all()
    assert np.abs(probs[:, :, :-6] - expected[:, :, :-6]).max() <= 1
    assert probs[1, :, :-6].std() > 0
    valid = cls != 255
    conf = gdal.Open(str(tmp_path / 'out' / 'confidence.tif')).ReadAsArray()
    assert (conf[valid] >= 127).all()


def _series(tmp_path, h=24, w=24):
    """A Sentinel-2 series of three dates (13 named bands, 10 m), one file each."""
    rng = np.random.default_rng(2)
    paths, dates = [], ['2020-03-05', '2020-07-14', '2021-03-10']
    for k, d in enumerate(dates):
        x = rng.integers(100, 4000, (13, h, w)).astype(np.uint16)
        paths.append(write_geotiff(tmp_path / f's2_{k}.tif', x, (ORIGIN[0], ORIGIN[1] +
                                                                 10 * h), 10.0,
                                   nodata=0, band_names=S2_13))
    return paths, dates


def test_unet_change_from_two_date_ranges_of_a_series(tmp_path):
    """U-Net (sigmoid head, threshold 0.4): two date ranges of one series give the
    files of the same two acquisitions named as modalities; wrong scenes are
    errors naming what is wrong, before any window runs."""
    paths, dates = _series(tmp_path)
    kw = dict(outputs=('class', 'probs'), tile=16, overlap=4, progress=False)
    inf = SceneInferencer(_oscd_cfg(0.4), **kw)
    ckpt = _checkpoint(inf, tmp_path / 'unet.pth', seed=3)
    inf = SceneInferencer(_oscd_cfg(0.4), ckpt, **kw)
    series = dict(modalities=dict(s2=dict(paths=paths, dates=dates)),
                  change=dict(modality='s2', pre=dict(start='2020-03-01',
                                                      end='2020-03-31'),
                              post=dict(start='2021-01-01', end='2021-12-31')))
    m = inf(series, str(tmp_path / 'ranges'))
    assert m['reference'] == 'pre' and (m['width'], m['height']) == (24, 24)
    files = dict(modalities=dict(pre=dict(path=paths[0]), post=dict(path=paths[2])))
    inf(files, str(tmp_path / 'files'))
    for name in ('class.tif', 'probs.tif'):
        assert open(tmp_path / 'ranges' / name, 'rb').read() == open(
            tmp_path / 'files' / name, 'rb').read()
    cls = gdal.Open(str(tmp_path / 'ranges' / 'class.tif')).ReadAsArray()
    probs = gdal.Open(str(tmp_path / 'ranges' / 'probs.tif')).ReadAsArray().astype(int)
    # change where its probability exceeds the head's threshold (not 0.5)
    p = probs[1] / 254
    clear = np.abs(p - 0.4) > 0.01
    np.testing.assert_array_equal(cls[clear], (p > 0.4)[clear])
    assert 0 < cls.mean() < 1
    # errors
    with pytest.raises(SceneInferenceError, match=r"change.post: the range .* holds 2 "
                       r"dates of 's2' \(2020-07-14, 2021-03-10\)"):
        inf(dict(series, change=dict(series['change'], post=dict(start='2020-06-01'))),
            str(tmp_path / 'e1'))
    with pytest.raises(SceneInferenceError, match='must be earlier than change.post'):
        inf(dict(series, change=dict(series['change'], pre=series['change']['post'],
                                     post=series['change']['pre'])),
            str(tmp_path / 'e2'))
    with pytest.raises(SceneInferenceError, match=r"lacks \['post'\].*change=dict"):
        inf(dict(modalities=dict(pre=dict(path=paths[0]))), str(tmp_path / 'e3'))
    with pytest.raises(SceneInferenceError, match=r"change lacks \['post'\]"):
        inf(dict(series, change=dict(modality='s2', pre=series['change']['pre'])),
            str(tmp_path / 'e4'))
    assert not (tmp_path / 'e1' / 'class.tif').exists()


def _sen12ms_cfg():
    cfg = load_config(SEN12MS_CR)
    enc = cfg.model.backbone.backbone
    enc.pop('init_cfg')
    enc.update(arch='tiny', img_size=32, drop_path_rate=0.0,
               moe_cfg=dict(num_experts=2, top_k=1, capacity_factor=1.25))
    cfg.model.head.update(in_channels=[32, 64, 128, 256], channels=16)
    return cfg


def test_cloud_removal_writes_float32_bands_on_the_reference_grid(tmp_path):
    rng = np.random.default_rng(4)
    h = w = 40
    s2 = rng.integers(100, 4000, (13, h, w)).astype(np.uint16)
    s2[:, :8] = 0  # nodata rows
    s1 = rng.normal(-12, 3, (2, h, w)).astype(np.float32)
    origin = (ORIGIN[0], ORIGIN[1] + 10 * h)
    scene = dict(reference='s2_cloudy', modalities=dict(
        s2_cloudy=dict(path=write_geotiff(tmp_path / 's2.tif', s2, origin, 10.0,
                                          nodata=0, band_names=S2_13)),
        s1=dict(path=write_geotiff(tmp_path / 's1.tif', s1, origin, 10.0,
                                   band_names=['VV', 'VH']))))
    inf = SceneInferencer(_sen12ms_cfg(), tile=32, overlap=8, progress=False)
    assert inf.settings['outputs'] == ['image']  # the model's own default
    m = inf(scene, str(tmp_path / 'cr'))
    assert m['task'] == 'image' and m['files']['image']['dtype'] == 'float32'
    ds = gdal.Open(str(tmp_path / 'cr' / 'image.tif'))
    ref = gdal.Open(scene['modalities']['s2_cloudy']['path'])
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    assert ds.RasterCount == 13 and ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert np.isnan(ds.GetRasterBand(1).GetNoDataValue())
    assert [ds.GetRasterBand(k + 1).GetDescription() for k in range(13)] == S2_13
    img = ds.ReadAsArray()
    assert np.isnan(img[:, :8]).all() and np.isfinite(img[:, 8:]).all()
    assert img[:, 8:].std() > 0
    with pytest.raises(SceneInferenceError, match="writes \\['image'\\]"):
        SceneInferencer(_sen12ms_cfg(), outputs=('class', ), progress=False)
    with pytest.raises(SceneInferenceError, match=r"reads the modalities \['s1'\]"):
        inf(dict(scene, modalities=dict(s2_cloudy=scene['modalities']['s2_cloudy'])),
            str(tmp_path / 'no_s1'))


def test_pansharpening_outputs_on_the_pan_grid(tmp_path):
    """The pan-sharpened image is on the panchromatic (HR) grid, the reference; a
    coarser reference is an error naming the option."""
    cfg = load_config(PANSHARPEN)
    enc = cfg.model.backbone.backbone
    enc.pop('init_cfg')
    enc.update(arch='tiny', img_size=32, drop_path_rate=0.0,
               moe_cfg=dict(num_experts=2, top_k=1, capacity_factor=1.25))
    cfg.model.head.update(in_channels=[32, 64, 128, 256], channels=16)
    for mod in cfg.test_dataloader.dataset.pipeline[0].modalities.values():
        mod.size = (32, 32)  # the window: 32 pan pixels
    rng = np.random.default_rng(5)
    pan = rng.integers(1, 2047, (1, 64, 48)).astype(np.uint16)
    ms = rng.integers(1, 2047, (8, 16, 12)).astype(np.uint16)
    origin = (ORIGIN[0], ORIGIN[1] + 32)
    ms_bands = cfg.test_dataloader.dataset.pipeline[0].modalities.ms.bands
    scene = dict(reference='pan', modalities=dict(
        pan=dict(path=write_geotiff(tmp_path / 'pan.tif', pan, origin, 0.5,
                                    band_names=['PAN'])),
        ms=dict(path=write_geotiff(tmp_path / 'ms.tif', ms, origin, 2.0,
                                   band_names=list(ms_bands)))))
    inf = SceneInferencer(cfg, tile=32, overlap=8, progress=False)
    m = inf(scene, str(tmp_path / 'ps'))
    ds = gdal.Open(str(tmp_path / 'ps' / 'image.tif'))
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (48, 64, 8)
    assert ds.GetGeoTransform() == gdal.Open(scene['modalities']['pan']['path']
                                             ).GetGeoTransform()
    assert m['geotransform'][1] == 0.5
    assert np.isfinite(ds.ReadAsArray()).all()
    with pytest.raises(SceneInferenceError, match="reference 'ms'.*grid of 'pan'.*set "
                       "the scene's reference to 'pan'"):
        inf(dict(scene, reference='ms'), str(tmp_path / 'ms_ref'))
