"""Layer-wise learning-rate decay: the SkySense release's rule for Swin V2 and ViT."""
import pytest
import torch.nn as nn
from mmengine.optim import build_optim_wrapper

from eofm.models import SkySense, SkySenseSwinV2
from eofm.models.common import empty_weights


def _groups(model, **paramwise):
    cfg = dict(
        optimizer=dict(type='AdamW', lr=1.0, weight_decay=0.05),
        constructor='eofm.LayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(decay_rate=0.9, **paramwise))
    wrapper = build_optim_wrapper(model, cfg)
    return {g['param_name']: g for g in wrapper.optimizer.param_groups}


def test_swin_v2_huge_rule():
    with empty_weights():
        backbone = SkySenseSwinV2('huge')
    model = nn.ModuleDict(dict(backbone=backbone, head=nn.Linear(2816, 10)))
    g = _groups(model)
    scale = {k: v['lr'] for k, v in g.items()}
    assert scale['backbone.patch_embed.projection.weight'] == pytest.approx(0.9**25)
    assert scale['backbone.stages.0.blocks.0.attn.w_msa.qkv.weight'] == \
        pytest.approx(0.9**24)  # block 1
    assert scale['backbone.stages.2.blocks.17.ffn.layers.1.weight'] == \
        pytest.approx(0.9**3)  # block 22 = 2 + 2 + 18
    # A stage's downsample: sum(depths[:s]) + 1 -> stage 3: 23.
    assert scale['backbone.stages.3.downsample.reduction.weight'] == \
        pytest.approx(0.9**2)
    assert scale['backbone.norm3.weight'] == pytest.approx(1.0)  # 25
    assert scale['head.weight'] == pytest.approx(1.0)
    # No weight decay on biases and 1-D parameters.
    assert g['backbone.stages.0.blocks.0.attn.w_msa.q_bias']['weight_decay'] == 0
    assert g['head.bias']['weight_decay'] == 0
    assert g['head.weight']['weight_decay'] == pytest.approx(0.05)


def test_skysense_encoders_inside_the_backbone():
    model = nn.ModuleDict(dict(backbone=SkySense('tiny', up_head=dict(scale=1))))
    scale = {k: v['lr'] for k, v in _groups(model).items()}
    # tiny Swin: depths [1, 1, 2, 1] -> max id 6; ViT: 2 layers -> max id 3.
    assert scale['backbone.hr.patch_embed.projection.weight'] == pytest.approx(0.9**6)
    assert scale['backbone.s2.patch_embed.projection.weight'] == pytest.approx(0.9**3)
    assert scale['backbone.s2.layers.1.ln1.weight'] == pytest.approx(0.9**1)
    assert scale['backbone.fusion.porj_linear.weight'] == pytest.approx(1.0)


def test_no_encoder_is_an_error():
    with pytest.raises(ValueError, match='no Swin V2 or ViT encoder'):
        _groups(nn.Linear(2, 2))
