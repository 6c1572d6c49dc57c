"""Each host library's flagship model builds from its own config and runs on CPU
with eofm imported (this is how faults of the pinned stack are found)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope


def _host_config(package, rel):
    import importlib
    pkg = importlib.import_module(package)
    path = osp.join(osp.dirname(pkg.__file__), '.mim', 'configs', rel)
    cfg = Config.fromfile(path)
    cfg.model.get('backbone', {}).pop('init_cfg', None)  # no weight downloads
    return cfg


def _build(scope, cfg):
    import importlib
    registry = importlib.import_module(f'{scope}.registry')
    importlib.import_module(f'{scope}.utils').register_all_modules(False)
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.MODELS.build(cfg.model)
    model.eval()
    return model


def _det_batch(scope, size=256, rotated=False):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    sample = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size),
                                         pad_shape=(size, size), scale_factor=(1., 1.)))
    inst = InstanceData()
    if rotated:
        from mmrotate.structures import RotatedBoxes
        inst.bboxes = RotatedBoxes(torch.tensor([[100., 100., 60., 30., 0.3]]))
    else:
        inst.bboxes = torch.tensor([[50., 60., 120., 140.]])
    inst.labels = torch.tensor([1])
    sample.gt_instances = inst
    return dict(inputs=[torch.randint(0, 255, (3, size, size), dtype=torch.uint8)],
                data_samples=[sample])


@pytest.mark.parametrize('scope,rel,rotated', [
    ('mmdet', 'faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', False),
    ('mmrotate', 'oriented_rcnn/oriented-rcnn-le90_r50_fpn_1x_dota.py', True),
])
def test_detectors_loss_and_predict(scope, rel, rotated):
    cfg = _host_config(scope, rel)
    model = _build(scope, cfg)
    with DefaultScope.overwrite_default_scope(scope):
        data = model.data_preprocessor(_det_batch(scope, rotated=rotated), True)
        losses = model(**data, mode='loss')
        assert all(torch.isfinite(v).all() for k, v in losses.items()
                   if 'loss' in k and isinstance(v, torch.Tensor))
        with torch.no_grad():
            data = model.data_preprocessor(_det_batch(scope, rotated=rotated), False)
            preds = model(**data, mode='predict')
    assert len(preds) == 1 and 'pred_instances' in preds[0]


def test_segmentor_upernet_loss():
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    cfg = _host_config('mmseg', 'upernet/upernet_r50_4xb2-40k_cityscapes-512x1024.py')
    cfg.model.backbone.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.decode_head.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.auxiliary_head.norm_cfg = dict(type='BN', requires_grad=True)
    cfg.model.data_preprocessor.size = (128, 128)
    model = _build('mmseg', cfg)
    model.train()
    sample = SegDataSample(metainfo=dict(img_shape=(128, 128), ori_shape=(128, 128),
                                         pad_shape=(128, 128)))
    sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 128, 128)))
    batch = dict(inputs=[torch.randint(0, 255, (3, 128, 128), dtype=torch.uint8)] * 2,
                 data_samples=[sample, sample])
    with DefaultScope.overwrite_default_scope('mmseg'):
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
    assert torch.isfinite(losses['decode.loss_ce'])


def test_classifier_loss_and_predict():
    from mmpretrain.structures import DataSample
    cfg = _host_config('mmpretrain', 'resnet/resnet18_8xb32_in1k.py')
    model = _build('mmpretrain', cfg)
    samples = [DataSample().set_gt_label(3), DataSample().set_gt_label(5)]
    batch = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
                 data_samples=samples)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
        preds = model(**model.data_preprocessor(batch, False), mode='predict')
    assert torch.isfinite(losses['loss'])
    assert preds[0].pred_score.shape == (1000, )
