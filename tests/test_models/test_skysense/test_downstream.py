"""SkySense's outputs feed the host libraries' heads (mmseg UperNet / FCN)."""
import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData


def _seg_samples(b, size):
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(b):
        s = SegDataSample(
            metainfo=dict(
                img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        s.gt_sem_seg = PixelData(data=torch.randint(0, 4, (1, size, size)))
        samples.append(s)
    return samples


def _build_seg(backbone, head):
    import mmseg.utils
    from mmseg.registry import MODELS
    mmseg.utils.register_all_modules(False)
    cfg = dict(
        type='EncoderDecoder',
        backbone=backbone,
        decode_head=head,
        test_cfg=ConfigDict(mode='whole'))
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('mode', ['static_hr_upernet', 'multimodal_fcn'])
def test_skysense_in_mmseg_encoder_decoder(mode):
    torch.manual_seed(0)
    b, size = 2, 128
    norm = dict(type='BN', requires_grad=True)
    if mode == 'static_hr_upernet':
        backbone = dict(
            type='eofm.SkySense',
            arch='tiny',
            modalities=('hr', ),
            use_fusion=False,
            hr=dict(out_indices=(0, 1, 2, 3)))
        head = dict(
            type='UPerHead',
            in_channels=[32, 64, 128, 256],
            in_index=[0, 1, 2, 3],
            channels=32,
            num_classes=4,
            norm_cfg=norm,
            loss_decode=dict(type='CrossEntropyLoss'))
        inputs = torch.randn(b, 3, size, size)
    else:
        backbone = dict(
            type='eofm.SkySense', arch='tiny', geo_context=True, up_head=dict(scale=1))
        head = dict(
            type='FCNHead',
            in_channels=128,
            channels=32,
            num_convs=1,
            num_classes=4,
            norm_cfg=norm,
            loss_decode=dict(type='CrossEntropyLoss'))
        inputs = dict(
            hr=torch.randn(b, 3, size, size),
            s2=torch.randn(b, 3, 10, 16, 16),
            s2_doy=torch.tensor([[10, 90, 200]] * b),
            s1=torch.randn(b, 2, 2, 16, 16),
            lonlat=torch.tensor([[2.3, 48.8], [151.2, -33.9]]))
    model = _build_seg(backbone, head)
    with DefaultScope.overwrite_default_scope('mmseg'):
        losses = model.loss(inputs, _seg_samples(b, size))
        assert torch.isfinite(losses['decode.loss_ce'])
        losses['decode.loss_ce'].backward()
        model.eval()
        with torch.no_grad():
            preds = model.predict(inputs, _seg_samples(b, size))
    assert preds[0].pred_sem_seg.data.shape == (1, size, size)
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
