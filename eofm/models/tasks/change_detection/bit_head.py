"""BIT: the bitemporal image transformer head (Chen, Qi and Shi, "Remote Sensing Image
Change Detection with Transformers", TGRS 2021), as SkySense uses it on LEVIR-CD
(paper Sec. 4.2 and supplementary K, Table J13 (iv)).

Per date, on a feature map X_i (B, C, h, w) at 1/4 of the input size (BIT Sec. III):

1. semantic tokenizer (BIT Eq. 1-2): a 1x1 conv gives L spatial attention maps
   A_i = softmax_hw(conv(X_i)) and the tokens T_i = A_i X_i^T (B, L, C), L = 4;
2. transformer encoder (Eq. 3-5) over the concatenated tokens of both dates
   [T_1, T_2] + a learned positional embedding (B, 2L, C): pre-norm multi-head
   self-attention and MLP blocks, depth 1;
3. transformer decoder (Eq. 6-7): the pixels of X_i are queries attending to the
   tokens of their own date (pre-norm cross-attention and MLP, depth 8), giving
   the refined maps X_i^new;
4. prediction head (Eq. 8-9): |X_1^new - X_2^new|, bilinearly upsampled to the
   input size, then a shallow FCN (3x3 conv + BN + ReLU, 3x3 conv) gives 2-class
   logits trained with cross-entropy.

Defaults are those of BIT's LEVIR-CD model (``base_transformer_pos_s4_dd8_dedim8``):
32-d features, token length 4, encoder depth 1 with 8 heads of 64 dims, decoder
depth 8 with 8 heads of 8 dims, MLP width 2 x 32, learned token positions, no
decoder positional embedding, attention scaled by dim^-0.5 as in BIT's code.

Multi-scale backbones: BIT reads one ResNet map. Here each backbone scale goes
through a 1x1 ConvModule (BN, ReLU) to ``channels``, is bilinearly resized to the
finest selected scale (1/4 of the input for Swin V2 stage 0), and the concatenation
is fused by a plain 3x3 conv to ``channels`` (the role of BIT's ``conv_pred``):
the all-MLP fusion of SegFormer followed by BIT's projection.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize

from eofm.registry import MODELS
from .base_change_head import BaseChangeHead

__all__ = ['BITHead', 'BITTransformer', 'BITTransformerDecoder']

# The attention blocks below are eofm's own: BIT's attention projects C-d tokens to
# heads x head_dims (8 x 64 = 512 for 32-d tokens) and scales by C^-0.5, which
# nn.MultiheadAttention / nn.TransformerEncoderLayer / mmcv's MultiheadAttention
# cannot express (their head width is C / heads, 4 here, and the scale its
# inverse square root). The attention itself is PyTorch's fused
# scaled_dot_product_attention.


class _Attention(nn.Module):
    """Multi-head (cross-)attention with BIT's projections and scale."""

    def __init__(self, dims, num_heads, head_dims, dropout=0.0):
        super().__init__()
        inner = num_heads * head_dims
        self.num_heads, self.scale = num_heads, dims**-0.5
        self.to_q = nn.Linear(dims, inner, bias=False)
        self.to_kv = nn.Linear(dims, inner * 2, bias=False)
        self.proj = nn.Sequential(nn.Linear(inner, dims), nn.Dropout(dropout))

    def _heads(self, x):
        b, n, _ = x.shape
        return x.reshape(b, n, self.num_heads, -1).transpose(1, 2)

    def forward(self, x, memory=None):
        memory = x if memory is None else memory
        q = self._heads(self.to_q(x))
        k, v = (self._heads(t) for t in self.to_kv(memory).chunk(2, dim=-1))
        out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
        return self.proj(out.transpose(1, 2).flatten(2))


def _mlp(dims, hidden, dropout):
    return nn.Sequential(
        nn.Linear(dims, hidden), nn.GELU(), nn.Dropout(dropout),
        nn.Linear(hidden, dims), nn.Dropout(dropout))


class BITTransformer(nn.Module):
    """BIT's token encoder (Eq. 3-5): pre-norm self-attention + MLP, residual."""

    def __init__(self, dims, depth, num_heads, head_dims, mlp_dims, dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleDict(
                dict(
                    norm1=nn.LayerNorm(dims),
                    attn=_Attention(dims, num_heads, head_dims, dropout),
                    norm2=nn.LayerNorm(dims),
                    mlp=_mlp(dims, mlp_dims, dropout))) for _ in range(depth))

    def forward(self, x):
        for layer in self.layers:
            x = x + layer['attn'](layer['norm1'](x))
            x = x + layer['mlp'](layer['norm2'](x))
        return x


class BITTransformerDecoder(BITTransformer):
    """BIT's decoder (Eq. 6-7): pixel queries cross-attend to the tokens.

    The encoder's layers; as in BIT, one LayerNorm normalises both the queries and
    the tokens of a layer.
    """

    def forward(self, x, tokens):
        for layer in self.layers:
            x = x + layer['attn'](layer['norm1'](x), layer['norm1'](tokens))
            x = x + layer['mlp'](layer['norm2'](x))
        return x


@MODELS.register_module()
class BITHead(BaseChangeHead):
    """The BIT change head over multi-scale features (see the module docstring).

    Args:
        in_channels (Sequence[int]): Channels of the selected backbone outputs.
        in_index (Sequence[int], optional): The outputs read (all by default).
        channels (int): Token / feature width C (BIT: 32).
        token_len (int): Tokens per date L (BIT: 4).
        enc_depth (int): Encoder layers (BIT: 1).
        dec_depth (int): Decoder layers (BIT: 8).
        num_heads (int): Attention heads (BIT: 8).
        enc_head_dims (int): Width of an encoder head (BIT: 64).
        dec_head_dims (int): Width of a decoder head (BIT's LEVIR-CD model: 8).
        mlp_ratio (float): MLP width / C (BIT: 2).
        token_pos (bool): Learned positional embedding of the 2L tokens.
        dropout (float): Dropout in the transformer (BIT: 0).
        norm_cfg (dict): Norm of the fusion and classifier convs.
        act_cfg (dict): Their activation.
        **kwargs: :class:`BaseChangeHead` arguments (``loss_decode``...).
    """

    def __init__(self,
                 in_channels,
                 in_index=None,
                 channels=32,
                 token_len=4,
                 enc_depth=1,
                 dec_depth=8,
                 num_heads=8,
                 enc_head_dims=64,
                 dec_head_dims=8,
                 mlp_ratio=2,
                 token_pos=True,
                 dropout=0.0,
                 norm_cfg=dict(type='BN'),
                 act_cfg=dict(type='ReLU'),
                 loss_decode=dict(
                     type='mmseg.CrossEntropyLoss',
                     use_sigmoid=False,
                     loss_weight=1.0,
                     avg_non_ignore=True),
                 **kwargs):
        super().__init__(in_channels, in_index, loss_decode=loss_decode, **kwargs)
        self.channels, self.token_len = channels, token_len
        self.lateral_convs = nn.ModuleList(
            ConvModule(c, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
            for c in self.in_channels)
        self.fuse = nn.Conv2d(channels * len(self.in_channels), channels, 3, padding=1)
        # Semantic tokenizer: one spatial attention map per token (BIT Eq. 1).
        self.token_attn = nn.Conv2d(channels, token_len, 1, bias=False)
        mlp_dims = int(channels * mlp_ratio)
        self.token_pos = nn.Parameter(torch.randn(1, 2 * token_len,
                                                  channels)) if token_pos else None
        self.encoder = BITTransformer(channels, enc_depth, num_heads, enc_head_dims,
                                      mlp_dims, dropout)
        self.decoder = BITTransformerDecoder(channels, dec_depth, num_heads,
                                             dec_head_dims, mlp_dims, dropout)
        self.classifier = nn.Sequential(
            ConvModule(
                channels,
                channels,
                3,
                padding=1,
                bias=False,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg), nn.Conv2d(channels, self.out_channels, 3, padding=1))

    def fuse_scales(self, feats):
        """One (B, C, h, w) map at the finest selected scale."""
        feats = self.select(feats)
        size = feats[0].shape[-2:]
        outs = [
            resize(
                conv(f), size=size, mode='bilinear', align_corners=self.align_corners)
            for conv, f in zip(self.lateral_convs, feats)
        ]
        return self.fuse(torch.cat(outs, dim=1))

    def tokenize(self, x):
        """BIT Eq. 1-2: (B, C, h, w) -> (B, L, C) tokens."""
        attn = self.token_attn(x).flatten(2).softmax(dim=-1)  # (B, L, hw)
        return torch.einsum('bln,bcn->blc', attn, x.flatten(2))

    def forward(self, feats_a, feats_b, img_size):
        x_a, x_b = self.fuse_scales(feats_a), self.fuse_scales(feats_b)
        tokens = torch.cat([self.tokenize(x_a), self.tokenize(x_b)], dim=1)
        if self.token_pos is not None:
            tokens = tokens + self.token_pos
        tokens_a, tokens_b = self.encoder(tokens).chunk(2, dim=1)
        b, c, h, w = x_a.shape
        dec_a = self.decoder(x_a.flatten(2).transpose(1, 2), tokens_a)
        dec_b = self.decoder(x_b.flatten(2).transpose(1, 2), tokens_b)
        diff = (dec_a - dec_b).abs().transpose(1, 2).reshape(b, c, h, w)
        diff = resize(
            diff,
            size=tuple(img_size),
            mode='bilinear',
            align_corners=self.align_corners)
        return self.classifier(diff)
