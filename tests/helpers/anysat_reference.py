"""AnySat's reference forward (``AnyModule.forward_release``), transcribed for parity.

Written for the tests from a reading of ``gastruc/AnySat`` (MIT): the release path of
``src/models/networks/encoder/Any_multi.py``, ``TransformerMulti.forward_release``
(``Transformer.py``), ``RPEAttention`` / ``CrossRPEAttentionMulti.forward_release``
(``utils/utils_ViT.py``) and the iRPE of ``utils/irpe.py`` in the code path that runs
without its CUDA extension. Nothing here is used by the library: it is the yardstick
eofm's :class:`eofm.AnySat` is compared with.

What is transcribed, and what is taken from eofm because it is tested elsewhere:

* the projectors are eofm's modules (their outputs equal the reference's, tested in
  ``tests/test_models/test_anysat/test_anysat.py``), called with the same arguments
  as eofm's forward;
* the sin-cos tables are eofm's functions (tested equal to the reference's);
* the bucket *values* are eofm's :func:`irpe_bucket_ids` (the reference's
  ``get_bucket_ids_2d``, tested in ``tests/test_models/test_common/test_layers.py``);
* transcribed here: the order of the reference's operations, the height it infers
  (``int(sqrt(N))``), the scaled query of the spatial transformer and the unscaled one
  of the cross block, and the iRPE index layout: a per-sample bucket table
  (B, L, L), row offsets ``i * num_buckets``, flattened to (B, L * L) and used as a
  gather index of shape (B, 1, L * L) on the (B, H, L * num_buckets) table, whose
  (B, 1, L, L) result is added to every head's logits.
"""
import math

import torch

from eofm.models.common import get_2d_sincos_pos_embed_with_scale, irpe_bucket_ids

__all__ = ['reference_irpe_on_keys', 'reference_forward', 'randomise_release_weights']


def randomise_release_weights(model, seed=0):
    """Perturb ``model``'s weights in place so that every parameter matters: the iRPE
    tables (zero at initialisation) get N(0, 0.5^2) entries and every matrix an
    N(0, 0.05^2) offset. Returns ``model``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith('lookup_table_weight'):
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
            elif p.dim() > 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def reference_irpe_on_keys(q, table, height, width, skip=1):
    """The reference iRPE term on keys for queries ``q`` (B, H, L, hd).

    ``table`` is ``rpe_k.lookup_table_weight`` (1, hd, num_buckets). Returns the
    (B, 1, L, L) term the reference adds to all heads.
    """
    b, heads, length, hd = q.shape
    nb = table.shape[-1]
    rp_bucket = irpe_bucket_ids(height, width, skip).to(q.device)
    assert rp_bucket.shape == (length, length), (rp_bucket.shape, length)
    rp_bucket = rp_bucket.unsqueeze(0).repeat(b, 1, 1)  # (B, L, L), one per sample
    offset = torch.arange(0, length * nb, nb, device=q.device).view(1, -1, 1)
    flat = (rp_bucket + offset).flatten(1, 2)  # (B, L * L)
    lookup = torch.matmul(q.transpose(0, 1).reshape(heads, b * length, hd), table)
    lookup = lookup.view(heads, b, length, nb).transpose(0, 1)  # (B, H, L, nb)
    index = flat.unsqueeze(1)  # (B, 1, L * L): the gather reads head 0 only
    out = torch.gather(lookup.flatten(2), 2, index)
    return out.view(b, -1, length, length)


def _mlp(mlp, x):
    return mlp.fc2(mlp.act(mlp.fc1(x)))


def _spatial_block(blk, x):
    """``BlockTransformer`` with ``RPEAttention`` (n_modalities=1, no mask)."""
    att = blk.attn
    b, n, c = x.shape
    heads = att.num_heads
    h = blk.norm1(x)
    qkv = att.qkv(h).reshape(b, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]
    q = q * att.scale
    attn = q @ k.transpose(-2, -1)
    side = int(n**0.5)
    attn = attn + reference_irpe_on_keys(q, att.rpe_k.lookup_table_weight, side, side)
    out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
    x = x + att.proj(out)
    return x + _mlp(blk.mlp, blk.norm2(x))


def _plain_block(blk, x):
    """timm-style ``Block`` with plain softmax attention."""
    att = blk.attn
    b, n, c = x.shape
    heads = att.num_heads
    qkv = att.qkv(blk.norm1(x)).reshape(b, n, 3, heads, c // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    a = (q @ k.transpose(-2, -1)) * (c // heads)**-0.5
    out = (a.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
    x = x + att.proj(out)
    return x + _mlp(blk.mlp, blk.norm2(x))


def _cross_block_release(blk, x, n_modalities, scale):
    """``CrossBlockMulti.forward_release`` without MODIS."""
    att = blk.attn
    xn = blk.norm1(x)
    b, n, c = xn.shape
    heads = att.num_heads
    num_patches = n // n_modalities + int(n % n_modalities > 0)
    side = int(num_patches**0.5)
    pos = get_2d_sincos_pos_embed_with_scale(c, side, scale, cls_token=True).to(x)
    q_ = att.q_learned.expand(b, num_patches, -1) + pos.expand(b, -1, -1)
    q = q_.reshape(b, num_patches, heads, c // heads).permute(0, 2, 1, 3)
    k = att.wk(xn).reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)
    v = att.wv(xn).reshape(b, n, heads, c // heads).permute(0, 2, 1, 3)
    attn = (q @ k.transpose(-2, -1)) * att.scale
    rpe = reference_irpe_on_keys(q, att.rpe_k.lookup_table_weight, side, side)
    attn = attn + torch.cat(
        [rpe[..., :1], rpe[..., 1:].repeat(1, 1, 1, n_modalities)], dim=-1)
    out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, num_patches, c)
    a = att.proj(out)  # no residual around the attention
    return a + _mlp(blk.mlp, blk.norm2(a))


def reference_forward(model, inputs, patch_size, output='patch'):
    """The reference's release forward on eofm's ``model`` weights.

    ``inputs`` in AnySat's naming, without MODIS (the reference's release path
    counts MODIS as a patch modality in its cross block and fails there). Returns
    the reference's output: 'tile' (B, D), 'patch' (B, N, D), 'all' (B, 1 + N, D)
    or 'dense' (B, N, L, 2D) with the sub-patches of the first modality.
    """
    names, plans, _, scale = model._check_inputs(inputs, patch_size)
    assert not any(p.get('tile_level') for p in plans.values()), 'no MODIS here'
    b, d = inputs[names[0]].shape[0], model.embed_dim
    enc = model.spatial_encoder
    tokens, pos_embed, subs, n_patch = [], None, None, None
    for name in names:
        spec, plan, x = model.specs[name], plans[name], inputs[name]
        proj = getattr(model, f'projector_{name}')
        if spec['kind'] == 'image':
            token = proj(x, plan['side'], plan['cells'], model.subpatch_order)
        else:
            token = proj(x, inputs[f'{name}_dates'], plan['pixels'],
                         inputs.get(f'{name}_mask'))
        if pos_embed is None:
            n_patch = token.shape[0] // b
            pos_embed = get_2d_sincos_pos_embed_with_scale(
                d, int(math.sqrt(n_patch)), scale, cls_token=True).to(token)
        # TransformerMulti.forward_release: cls, positions in metres, blocks, norm
        sub_side = int(math.sqrt(token.shape[1]))
        res = model.subpatch_resolution(name)
        t = torch.cat([enc.cls_token.expand(token.shape[0], -1, -1), token], dim=1)
        t = t + get_2d_sincos_pos_embed_with_scale(d, sub_side, res, cls_token=True).to(t)
        for blk in enc.predictor_blocks:
            t = _spatial_block(blk, t)
        t = enc.predictor_norm(t)
        if output == 'dense' and name == names[0]:
            subs = t[:, 1:].reshape(b, n_patch, t.shape[1] - 1, d)
        tokens.append(t[:, 0].reshape(b, n_patch, d) + pos_embed[:, 1:])
    x = torch.cat(tokens, dim=1)
    cls = (model.cls_token + pos_embed[:, :1]).expand(b, -1, -1)
    x = torch.cat([cls, x], dim=1)
    for blk in model.blocks[:-1]:
        x = _plain_block(blk, x)
    x = _cross_block_release(model.blocks[-1], x, len(names), scale)
    if output == 'dense':
        up = x[:, 1:].unsqueeze(2).repeat(1, 1, subs.shape[2], 1)
        return torch.cat([up, subs], dim=3)
    if output == 'tile':
        return x[:, 0]
    if output == 'patch':
        return x[:, 1:]
    return x
