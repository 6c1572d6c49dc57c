"""Downstream heads shared by the patch-token encoders (OmniSat, AnySat): the
TokensToMap neck, the MLP multi-label head and the per-patch segmentation heads,
built from config dicts through mmpretrain / mmseg."""
import pytest
import torch
from mmengine.registry import init_default_scope

from eofm.models.tasks import (MultiLabelMLPClsHead, PatchLinearSegHead, SubPatchLinearSegHead, TokensToMap)

TINY = dict(
    embed_dim=32, depth=1, num_heads=4, mlp_ratio=2.0, patch_size=10.0, tile_size=20.0)


def _omnisat_batch(b=2, px=100, g=2, t=3):
    return dict(
        aerial=torch.randn(b, 4, px, px),
        s2=torch.randn(b, t, 10, g, g),
        s2_doy=torch.randint(1, 366, (b, t)),
        s1_asc=torch.randn(b, t, 2, g, g),
        s1_asc_doy=torch.randint(1, 366, (b, t)))


# ------------------------------------------------------------------ neck
def test_tokens_to_map_layouts():
    tokens, tile = torch.randn(2, 6, 8), torch.randn(2, 8)
    (fmap, ) = TokensToMap(grid=(2, 3))((tokens, tile))
    assert fmap.shape == (2, 8, 2, 3)
    # row-major: token i*gw + j is map[:, :, i, j]
    assert torch.equal(fmap[:, :, 1, 2], tokens[:, 5])
    (pooled, ) = TokensToMap('pooled', 'mean')((tokens, tile))
    assert torch.allclose(pooled, tokens.mean(1))
    (pooled, ) = TokensToMap('pooled', 'max')(tokens)
    assert torch.equal(pooled, tokens.amax(1))
    (pooled, ) = TokensToMap('pooled', 'tile')((tokens, tile))
    assert torch.equal(pooled, tile)
    # AnySat layouts: channel-last maps, cls-first sequences, tile vectors
    cl = torch.randn(2, 3, 4, 8)
    (fmap, ) = TokensToMap()(cl)
    assert torch.equal(fmap, cl.permute(0, 3, 1, 2))
    (pooled, ) = TokensToMap('pooled')(cl)
    assert torch.allclose(pooled, cl.mean(dim=(1, 2)))
    seq = torch.randn(2, 1 + 9, 8)
    (fmap, ) = TokensToMap(cls_token=True)(seq)
    assert fmap.shape == (2, 8, 3, 3) and torch.equal(fmap[:, :, 0, 0], seq[:, 1])
    (pooled, ) = TokensToMap('pooled', 'tile', cls_token=True)(seq)
    assert torch.equal(pooled, seq[:, 0])
    assert TokensToMap('pooled')(tile)[0] is tile
    with pytest.raises(ValueError, match='grid'):
        TokensToMap()(torch.randn(2, 6, 8))
    with pytest.raises(ValueError, match='tile token'):
        TokensToMap('pooled', 'tile')(tokens)
    with pytest.raises(ValueError, match='no spatial map'):
        TokensToMap()(tile)
    with pytest.raises(ValueError, match='out_type'):
        TokensToMap('vector')


# ------------------------------------------------------------------ cls head
def test_multilabel_mlp_head_shapes_loss_and_gradients():
    from mmpretrain.structures import DataSample
    head = MultiLabelMLPClsHead(
        num_classes=5, in_channels=8, hidden_channels=(16, 12), norm='bn')
    head.init_weights()
    feats = (torch.randn(4, 8, requires_grad=True), )
    assert head(feats).shape == (4, 5)
    samples = [DataSample().set_gt_label([i % 5, (i + 2) % 5]) for i in range(4)]
    losses = head.loss(feats, samples)
    losses['loss'].backward()
    assert torch.isfinite(losses['loss'])
    assert feats[0].grad.abs().sum() > 0
    assert all(p.grad is not None for p in head.parameters())
    head.eval()
    preds = head.predict(feats)
    assert len(preds) == 4 and preds[0].pred_score.shape == (5, )
    assert MultiLabelMLPClsHead(3, 8, hidden_channels=())(feats).shape == (4, 3)
    with pytest.raises(ValueError, match='norm'):
        MultiLabelMLPClsHead(3, 8, norm='gn')


def test_image_classifier_with_omnisat_from_config():
    """mmpretrain ImageClassifier: OmniSat -> TokensToMap(pooled) -> eofm MLP head."""
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    from mmpretrain.structures import DataSample
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    for head in (dict(type='eofm.MultiLabelMLPClsHead',
                      hidden_channels=(16, )), dict(type='MultiLabelLinearClsHead')):
        model = PRETRAIN_MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(type='eofm.OmniSat', arch=TINY),
                neck=dict(type='eofm.TokensToMap', out_type='pooled', pool='tile'),
                head=dict(head, num_classes=4, in_channels=32)))
        x = _omnisat_batch()
        samples = [DataSample().set_gt_label([0, 3]), DataSample().set_gt_label([1])]
        losses = model(x, samples, mode='loss')
        losses['loss'].backward()
        assert torch.isfinite(losses['loss'])
        assert model.backbone.projector_aerial.proj[0].weight.grad is not None
        model.eval()
        with torch.no_grad():
            preds = model(x, samples, mode='predict')
        assert preds[0].pred_score.shape == (4, )


# ------------------------------------------------------------------ seg heads
def _seg_samples(b, size, num_classes):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    out = []
    for _ in range(b):
        s = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size, pad_shape=size))
        s.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, *size)))
        out.append(s)
    return out


def test_patch_linear_seg_head_shapes_and_gradients():
    head = PatchLinearSegHead(in_channels=8, num_classes=3, norm='ln')
    x = torch.randn(2, 8, 2, 3, requires_grad=True)
    logits = head([x])
    assert logits.shape == (2, 3, 2, 3)
    losses = head.loss_by_feat(logits, _seg_samples(2, (20, 30), 3))
    losses['loss_ce'].backward()
    assert x.grad.abs().sum() > 0 and head.conv_seg.weight.grad is not None
    pred = head.predict_by_feat(logits.detach(), [dict(img_shape=(20, 30))])
    assert pred.shape == (2, 3, 20, 30)
    # nearest upsampling: one class per 10 x 10 patch
    assert torch.equal(pred[:, :, :10, :10],
                       logits.detach()[:, :, :1, :1].expand(-1, -1, 10, 10))
    with pytest.raises(ValueError, match='upsample_mode'):
        PatchLinearSegHead(8, 3, upsample_mode='bicubic')


def test_subpatch_linear_seg_head_pixel_shuffle():
    head = SubPatchLinearSegHead(in_channels=8, num_classes=3, scale=4)
    x = torch.randn(2, 8, 2, 2, requires_grad=True)
    logits = head([x])
    assert logits.shape == (2, 3, 8, 8)
    # the 4 x 4 block of patch (0, 0) depends on token (0, 0) only
    logits[:, :, :4, :4].sum().backward()
    assert x.grad[:, :, 0, 0].abs().sum() > 0
    assert x.grad[:, :, 1:, :].abs().sum() == 0 and x.grad[:, :, :, 1:].abs().sum() == 0
    losses = head.loss_by_feat(head([x]), _seg_samples(2, (16, 16), 3))
    assert torch.isfinite(losses['loss_ce'])


def test_encoder_decoder_with_omnisat_from_config():
    """mmseg EncoderDecoder: OmniSat -> TokensToMap(map) -> per-patch heads."""
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS as SEG_MODELS
    init_default_scope('mmseg')
    torch.manual_seed(0)
    for head in (dict(type='eofm.PatchLinearSegHead'),
                 dict(type='eofm.SubPatchLinearSegHead', scale=5)):
        model = SEG_MODELS.build(
            dict(
                type='EncoderDecoder',
                backbone=dict(type='eofm.OmniSat', arch=TINY),
                neck=dict(type='eofm.TokensToMap'),
                decode_head=dict(head, in_channels=32, num_classes=3),
                test_cfg=ConfigDict(mode='whole')))
        x = _omnisat_batch()
        samples = _seg_samples(2, (20, 20), 3)
        losses = model(x, samples, mode='loss')
        loss = sum(v for k, v in losses.items() if 'loss' in k)
        loss.backward()
        assert torch.isfinite(loss)
        assert any(p.grad is not None for p in model.backbone.projector_s2.parameters())
        model.eval()
        with torch.no_grad():
            preds = model(x, _seg_samples(2, (20, 20), 3), mode='predict')
        assert preds[0].pred_sem_seg.data.shape == (1, 20, 20)


def test_layer_norm_is_per_token():
    head = PatchLinearSegHead(in_channels=4, num_classes=2, norm='ln')
    x = torch.randn(1, 4, 3, 3) * torch.arange(1, 10).view(1, 1, 3, 3)
    y = head.norm(x)
    # every position's channels have mean 0, variance 1 (the affine is identity)
    torch.testing.assert_close(y.mean(1), torch.zeros(1, 3, 3), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        y.var(1, unbiased=False), torch.ones(1, 3, 3), atol=1e-3, rtol=0)
