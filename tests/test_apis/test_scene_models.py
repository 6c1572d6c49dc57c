"""SkySense, AnySat, OmniSat and msGFM configs, shrunk to CPU size, run end to end
over one generated multi-sensor scene (1 m HR image, Sentinel-2 and Sentinel-1
series at 10 m, the Sentinel-1 files in the neighbouring UTM zone), and their
outputs are COGs on the reference grid with sensible values."""
import os

import numpy as np
import pytest
from osgeo import gdal
from osgeo_utils.samples import validate_cloud_optimized_geotiff as vcog

from tests.helpers.config_helpers import ROOT
from eofm.apis.runner_setup import load_config
from eofm.apis.scene_inference import SceneInferencer
from tests.helpers.scene_helpers import S2_BANDS_13, make_multisensor_scene

CFG = ROOT + '/configs/'

S1_3 = ('VV', 'VH', 'VV/VH')  # the 3-channel Sentinel-1 of PASTIS-HD


def _series_lengths(cfg, n):
    for t in cfg.test_dataloader.dataset.pipeline:
        if t.type == 'eofm.TemporalSample':
            t.lengths = {m: n for m in t.lengths}


def _check_grid(out_dir, name, reference_path, nodata):
    path = str(out_dir / f'{name}.tif')
    _, errors, _ = vcog.validate(path, full_check=True)
    assert errors == [], errors
    ds, ref = gdal.Open(path), gdal.Open(reference_path)
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    assert ds.GetProjection() == ref.GetProjection()
    assert (ds.RasterXSize, ds.RasterYSize) == (ref.RasterXSize, ref.RasterYSize)
    got = ds.GetRasterBand(1).GetNoDataValue()
    assert (np.isnan(got) and np.isnan(nodata)) or got == nodata
    return ds.ReadAsArray()


def _check_classes(out_dir, reference_path, num_classes, strip_px):
    cls = _check_grid(out_dir, 'class', reference_path, 255)
    assert (cls[:, :strip_px] == 255).all()  # the HR strip without data
    inside = cls[:, strip_px + 1:]
    assert (inside < num_classes).all()
    return cls


def test_skysense_pastis_mm_fcn_on_hr_grid(tmp_path):
    """SkySense (HR Swin + S2 / S1 ViTs + temporal fusion, FCN on F_fus), outputs on
    the 1 m HR grid; S1 warped from the other zone."""
    data = make_multisensor_scene(tmp_path / 'scene', size_m=320)
    cfg = load_config(CFG + 'skysense/skysense_fcn_4xb2-20k_pastis-mm-128x128.py')
    bb = cfg.model.backbone
    bb.update(arch='tiny', with_cp=False, up_head=dict(scale=1))
    bb.pop('init_cfg')
    for part in ('hr', 's2', 's1'):
        bb[part].drop_path_rate = 0.0
    cfg.model.decode_head.update(in_channels=64, channels=16, norm_cfg=dict(type='BN'))
    cfg.test_dataloader.dataset.pipeline[0].modalities.hr.size = (128, 128)
    _series_lengths(cfg, 3)
    scene = dict(reference='hr', modalities=dict(hr=data['hr'], s2=data['s2'],
                                                 s1_asc=data['s1']))
    inf = SceneInferencer(cfg, outputs=('class', 'confidence'), tile=160, overlap=32,
                          progress=False)
    m = inf(scene, str(tmp_path / 'out'))
    assert any(p.startswith('warp_s1_asc') for p in
               os.listdir(tmp_path / 'out' / '.work'))
    assert (m['width'], m['height']) == (320, 320) and m['task'] == 'segmentation'
    # the 20 m strip without HR data is nodata (but its last pixel: the config
    # reads 160 px of HR as 128, which resamples the strip's edge)
    _check_classes(tmp_path / 'out', data['hr']['path'], 19, 19)
    conf = _check_grid(tmp_path / 'out', 'confidence', data['hr']['path'], 255)
    assert (conf[:, 20:] >= 254 // 19).all()


def test_anysat_pastis_hd_segmentation_on_s2_grid(tmp_path):
    """AnySat (S2 + S1 series + 1 m SPOT, 40 m patches) on the 10 m grid."""
    data = make_multisensor_scene(tmp_path / 'scene', size_m=320, s1_bands=S1_3)
    cfg = load_config(CFG + 'anysat/anysat_sublinear_8xb1-100e_pastis-hd-p40m.py')
    cfg.model.backbone.arch = 'tiny'
    cfg.model.backbone.pop('init_cfg')
    cfg.model.decode_head.in_channels = 64
    _series_lengths(cfg, 3)
    scene = dict(reference='s2', modalities=dict(spot=data['hr'], s2=data['s2'],
                                                 s1_asc=data['s1']))
    # 16 px windows: 160 m, 4 x 4 patches of 40 m
    inf = SceneInferencer(cfg, outputs=('class', 'probs'), tile=16, overlap=4,
                          progress=False)
    inf(scene, str(tmp_path / 'out'))
    cls = _check_grid(tmp_path / 'out', 'class', data['s2']['paths'][0], 255)
    assert (cls < 19).all()  # the HR strip: S2, the reference, is valid there
    probs = _check_grid(tmp_path / 'out', 'probs', data['s2']['paths'][0], 255)
    assert probs.shape == (19, 32, 32)
    assert (np.abs(probs.astype(int).sum(0) - 254) <= 19).all()


def test_omnisat_pastis_hd_patch_embeddings(tmp_path):
    """OmniSat's patch tokens (the classification config's neck switched to a map)
    exported as embeddings on the 10 m grid."""
    from eofm.models.omnisat import OmniSat
    data = make_multisensor_scene(tmp_path / 'scene', size_m=320, s1_bands=S1_3)
    cfg = load_config(CFG + 'omnisat/omnisat-mm_linear_3xb128-200e_pastis-hd-1280m.py')
    # 160 m tiles of 40 m patches, d = 32
    cfg.model.backbone.arch = dict(OmniSat.arch_zoo['pastis_hd'], embed_dim=32, depth=1,
                                   num_heads=4, mlp_ratio=2.0, tile_size=160.0)
    cfg.model.backbone.pop('init_cfg')
    cfg.model.neck = dict(type='eofm.TokensToMap', out_type='map')
    cfg.model.head.in_channels = 32
    _series_lengths(cfg, 3)
    scene = dict(reference='s2', modalities=dict(spot=data['hr'], s2=data['s2'],
                                                 s1_asc=data['s1']))
    inf = SceneInferencer(cfg, outputs=('embeddings', ), tile=16, overlap=4,
                          progress=False)
    m = inf(scene, str(tmp_path / 'out'))
    emb = _check_grid(tmp_path / 'out', 'embeddings', data['s2']['paths'][0],
                      float('nan'))
    assert emb.shape == (32, 32, 32) and np.isfinite(emb).all()
    assert m['files']['embeddings']['bands'] == 32
    # one token per 40 m patch: constant over 4 x 4 pixels inside a window's core
    assert emb[:, 4:8, 4:8].std(axis=(1, 2)).max() < 1e-2 * emb.std()
    assert (tmp_path / 'out' / 'embeddings_preview.png').exists()


def test_msgfm_cloud_removal_from_s2_and_warped_s1(tmp_path):
    """msGFM's SEN12MS-CR config: one cloudy S2 date + one S1 date (warped from the
    other zone) -> 13 float32 bands on the S2 grid."""
    data = make_multisensor_scene(tmp_path / 'scene', size_m=400,
                                  s2_bands=S2_BANDS_13)
    cfg = load_config(CFG + 'msgfm/msgfm_pixreg_8xb4-40k_sen12ms-cr-256px.py')
    enc = cfg.model.backbone.backbone
    enc.pop('init_cfg')
    enc.update(arch='tiny', img_size=32, drop_path_rate=0.0,
               moe_cfg=dict(num_experts=2, top_k=1, capacity_factor=1.25))
    cfg.model.head.update(in_channels=[32, 64, 128, 256], channels=16)
    scene = dict(reference='s2_cloudy', modalities=dict(
        s2_cloudy=dict(path=data['s2']['paths'][1]),
        s1=dict(path=data['s1']['paths'][0])))
    inf = SceneInferencer(cfg, tile=32, overlap=8, progress=False)
    m = inf(scene, str(tmp_path / 'out'))
    img = _check_grid(tmp_path / 'out', 'image', data['s2']['paths'][1], float('nan'))
    assert img.shape == (13, 40, 40) and img.dtype == np.float32
    assert np.isfinite(img).all() and img.std() > 0
    assert m['files']['image']['bands'] == 13
    assert any(p.startswith('warp_s1_') for p in os.listdir(tmp_path / 'out' / '.work'))


def test_skysense_named_feature_embeddings_of_a_generated_sample_scene(tmp_path):
    """The demo's land-cover map path: the pretraining config's teacher over a
    scene from the sample-data generator, ``feature='fused_mm'`` (the probes'
    map). One window covers the scene: the COG equals the in-memory named map,
    resized to the 10 m grid, to float16 precision; the default features (the
    geo-context map ``fused``) are another map."""
    import torch
    import torch.nn.functional as F

    from eofm.apis.scene_inference import SceneInferenceError
    from eofm.datasets import multimodal_collate
    from eofm.datasets.sample_data import make_scene
    scene, _ = make_scene(str(tmp_path / 'scene'), size=32, hr_factor=8)
    cfg = load_config(CFG + 'skysense/skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py')
    probe_val = cfg.custom_hooks[1].probe_val
    cfg.test_dataloader = dict(dataset=probe_val)
    from mmengine.registry import DefaultScope

    from eofm.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('eofm'):
        built = MODELS.build(cfg.model)
    ckpt = str(tmp_path / 'model.pth')
    torch.save(dict(state_dict=built.state_dict()), ckpt)
    inf = SceneInferencer(cfg, ckpt, outputs=['embeddings'], feature='fused_mm',
                          tile=32, overlap=0, precision='fp32', progress=False)
    m = inf(scene, str(tmp_path / 'mm'))
    assert m['settings']['feature'] == 'fused_mm'
    emb = _check_grid(tmp_path / 'mm', 'embeddings',
                      str(tmp_path / 'scene' / 's2' / 'scene.tif'), np.nan)
    assert emb.shape == (64, 32, 32)
    import json
    desc = json.load(open(scene))
    for d in desc['modalities'].values():
        d['path'] = str(tmp_path / 'scene' / d['path'])
    sample = inf.runner.sample(desc['modalities'], (0, 0, 32, 32), 'scene')
    model = inf.runner.model
    with torch.no_grad():
        data = model.data_preprocessor(multimodal_collate([sample]), False)
        mem = model.named_features(data['inputs'])['fused_mm']
    mem = F.interpolate(mem, size=(32, 32), mode='bilinear', align_corners=False)[0]
    np.testing.assert_allclose(emb.astype(np.float32), mem.numpy(), rtol=2e-3,
                               atol=2e-3)
    default = SceneInferencer(cfg, ckpt, outputs=['embeddings'], tile=32, overlap=0,
                              precision='fp32', progress=False)
    d = default(scene, str(tmp_path / 'default'))
    assert d['files']['embeddings']['bands'] != 64 or not np.allclose(
        gdal.Open(str(tmp_path / 'default' / 'embeddings.tif')).ReadAsArray(), emb)
    with pytest.raises(SceneInferenceError, match="no feature 'nope'; it has"):
        SceneInferencer(cfg, outputs=['embeddings'], feature='nope', tile=32,
                        overlap=0, progress=False)(scene, str(tmp_path / 'nope'))
