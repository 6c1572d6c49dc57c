"""The pinned host libraries import together with eofm, and mmcv's ops run on CPU."""
import collections

import pytest
import torch


def test_host_libraries_import_with_eofm():
    import mmdet
    import mmpretrain
    import mmrotate
    import mmseg

    import eofm
    assert mmdet.__version__ == '3.1.0'
    assert mmrotate.__version__ == '1.0.0rc1'
    assert mmseg.__version__ == '1.2.2'
    assert mmpretrain.__version__ == '1.2.0'
    assert collections.Sequence is collections.abc.Sequence  # for mmrotate
    assert eofm.__version__


def test_mmcv_nms_runs_on_cpu():
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    assert dets.shape == (2, 5)
    assert dets[:, 4].tolist() == pytest.approx([0.9, 0.7])


def test_mmcv_nms_rotated_runs_on_cpu():
    from mmcv.ops import nms_rotated
    # (cx, cy, w, h, angle): the second box is the first rotated by a tiny angle.
    boxes = torch.tensor([[5., 5., 10., 4., 0.], [5., 5., 10., 4., 0.05],
                          [50., 50., 10., 4., 0.5]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    _, keep = nms_rotated(boxes, scores, iou_threshold=0.5)
    assert sorted(keep.tolist()) == [0, 2]


def test_mmcv_roi_align_runs_on_cpu():
    from mmcv.ops import RoIAlign
    feat = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    # One RoI covering the whole map, pooled to 1x1 with aligned=True: the mean.
    rois = torch.tensor([[0., 0., 0., 4., 4.]])
    out = RoIAlign(output_size=(1, 1), spatial_scale=1.0, sampling_ratio=2,
                   aligned=True)(feat, rois)
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == pytest.approx(feat.mean().item())


def test_osgeo_gdal_windowed_read(tmp_path):
    import numpy as np
    from osgeo import gdal, osr
    path = str(tmp_path / 'a.tif')
    ds = gdal.GetDriverByName('GTiff').Create(path, 32, 16, 2, gdal.GDT_Float32)
    ds.SetGeoTransform((500000, 10, 0, 5000000, 0, -10))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32632)
    ds.SetProjection(srs.ExportToWkt())
    data = np.arange(2 * 16 * 32, dtype=np.float32).reshape(2, 16, 32)
    for b in range(2):
        ds.GetRasterBand(b + 1).WriteArray(data[b])
    ds = None
    ds = gdal.Open(path)
    win = ds.ReadAsArray(4, 2, 8, 3)
    np.testing.assert_array_equal(win, data[:, 2:5, 4:12])
