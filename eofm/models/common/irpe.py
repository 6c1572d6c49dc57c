"""Image relative position encoding (iRPE) and the attention that uses it.

iRPE (Wu et al., "Rethinking and Improving Relative Position Encoding for Vision
Transformer", ICCV 2021) adds to the attention logit of query ``i`` and key ``j`` a term
that depends on the bucket of their 2D offset. OmniSat's combiner and AnySat's spatial
transformer / cross block use one configuration only, which is what eofm implements
(after OmniSat's ``src/models/networks/encoder/utils/irpe.py`` and the ``RPEAttention``
of its ``utils_ViT.py``, MIT; AnySat ships an ``irpe.py`` of the same name):

* method *euclidean*: the offset is bucketed by ``d = round(sqrt(dr^2 + dc^2))`` through
  the piecewise index of the paper's Eq. 18 with ``alpha = 1 * ratio``,
  ``beta = 2 * ratio``, ``gamma = 8 * ratio`` and ``ratio = 1.9``: ``round(d)`` for
  ``d <= alpha``, else ``round(alpha + ln(d / alpha) / ln(gamma / alpha) *
  (beta - alpha))`` clipped to ``beta``, shifted by ``int(beta)``; this gives
  ``2 * int(beta) + 1 = 7`` buckets plus one for the *skip* tokens (cls...), 8 in all
  (distances 0, 1, 2-3, >= 4 use buckets 3, 4, 5, 6; a skip token is bucket 7 with
  every token, itself included);
* mode *contextual*, on keys, heads sharing one table: the term is
  ``q_i . r_{b(i, j)}`` with ``r`` a (head_dim, num_buckets) table initialised to zero,
  where ``q`` is the already scaled query.

Which query a head uses (``query_heads``):

* ``'own'`` (default; the iRPE paper, OmniSat's reference): head ``h`` adds
  ``q^h_i . r_{b(i, j)}``, each head with its own query;
* ``'first'`` (AnySat's reference, and so its released ``AnySat.pth``): every head
  adds the *first* head's term ``q^0_i . r_{b(i, j)}``. The reference builds its bucket
  index per sample, (B, L, L), and gathers the flattened (B, H, L * num_buckets) table
  with an index of shape (B, 1, L * L) in the only code path that runs without its
  CUDA extension, so the gather reads head 0 only and the (B, 1, L, L) result is
  broadcast over the heads. The weights were trained that way, so AnySat defaults to
  it to give the features the release was trained for.

Token layout. A sequence of ``L`` tokens holds ``skip`` tokens without a position
first, then ``num_grids`` grids of ``height x width`` tokens in row-major order. Two
ways to lay the grid, chosen by the caller:

* *inferred* (``height=None``), the reference behaviour: ``height = width =
  floor(sqrt(L))`` and ``skip = L - height * width``. On OmniSat's combiner input
  (cls + 3 modalities x 36 patches, L = 109) this is a 10 x 10 grid over the last 100
  tokens with the first 9 (cls and 8 aerial tokens) as skip tokens, not the
  modalities' 6 x 6 grids; eofm reproduces it for parity.
* *per modality* (``height, width, num_grids`` given): every one of the ``num_grids``
  blocks is its own ``height x width`` grid, and a token of one block is related to a
  token of another block by their offset on the common grid (same patch: distance 0).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from eofm.registry import MODELS

__all__ = [
    'iRPE', 'RPEAttention', 'irpe_bucket_ids', 'irpe_num_buckets', 'piecewise_index',
    'QUERY_HEADS'
]

#: Values of ``query_heads`` (see the module docstring).
QUERY_HEADS = ('own', 'first')


def check_query_heads(value, owner):
    """Validate a ``query_heads`` argument; ``owner`` names the module in the error."""
    if value not in QUERY_HEADS:
        raise ValueError(f'{owner}: query_heads must be one of {QUERY_HEADS} '
                         f"('own': each head its own query, as the iRPE paper; "
                         f"'first': every head the first head's, as AnySat's release), "
                         f'got {value!r}')
    return value


def piecewise_index(relative_position, alpha, beta, gamma):
    """iRPE's piecewise index function (paper Eq. 18), long output in [-int(beta), beta]."""
    rp = relative_position.float()
    rp_abs = rp.abs()
    far = rp_abs > alpha
    idx = rp.round()
    far_val = torch.sign(rp) * (
        alpha + torch.log(rp_abs.clamp(min=alpha) / alpha) / math.log(gamma / alpha) *
        (beta - alpha)).round().clip(max=beta)
    # truncation of the clipped float (beta = 3.8 -> 3), as ``.to(long)`` in the reference
    return torch.where(far, far_val, idx).long()


def irpe_num_buckets(ratio=1.9, skip=True):
    """Buckets of the euclidean method: ``2 * int(2 * ratio) + 1`` (+1 for skip tokens)."""
    return 2 * int(2 * ratio) + 1 + int(skip)


def irpe_bucket_ids(height, width, skip=0, num_grids=1, ratio=1.9, device=None):
    """Bucket ids (L, L), ``L = skip + num_grids * height * width``, euclidean method.

    The ``skip`` leading tokens get the extra bucket ``irpe_num_buckets(ratio) - 1``
    (as query and as key). The ``num_grids`` blocks of ``height * width`` tokens are
    related by their positions on one common grid (see the module docstring).
    """
    alpha, beta, gamma = 1 * ratio, 2 * ratio, 8 * ratio
    rows = torch.arange(height, device=device).repeat_interleave(width)
    cols = torch.arange(width, device=device).repeat(height)
    pos = torch.stack([rows, cols], dim=-1)
    diff = pos[:, None, :] - pos[None, :, :]
    dist = diff.square().sum(-1).float().sqrt().round()
    ids = piecewise_index(dist, alpha, beta, gamma) + int(beta)
    if num_grids > 1:
        ids = ids.repeat(num_grids, num_grids)
    if skip > 0:
        n = ids.shape[0]
        full = ids.new_full((skip + n, skip + n), irpe_num_buckets(ratio, True) - 1)
        full[skip:, skip:] = ids
        ids = full
    return ids


@MODELS.register_module(name='iRPE')
class iRPE(nn.Module):
    """Contextual image relative position encoding on queries or keys (transposed iRPE).

    After the reference ``iRPE`` (contextual, transposed, euclidean), parameter
    ``lookup_table_weight`` of shape (num_heads, head_dim, num_buckets), zero-initialised.

    Args:
        head_dim (int): Width of one attention head.
        num_heads (int): Tables; 1 when the heads share one (the references' setting).
        ratio (float): Controls alpha, beta, gamma. Default 1.9 (8 buckets with skip).
        skip_bucket (bool): Keep the extra bucket for skip tokens. Default True.
        query_heads (str): ``'own'`` (default) or ``'first'``: which head's query
            gives every head's term (module docstring).

    ``forward(x, height=None, width=None, num_grids=1)`` takes the (scaled) queries
    ``x`` (B, H, L, head_dim) and returns the logit term (B, H, L, L); ``height=None``
    infers the grid as ``floor(sqrt(L))`` over the whole sequence. With
    ``query_heads='first'`` the term is (B, 1, L, L), the same for every head.
    """

    def __init__(self, head_dim, num_heads=1, ratio=1.9, skip_bucket=True,
                 query_heads='own'):
        super().__init__()
        self.head_dim, self.num_heads, self.ratio = head_dim, num_heads, ratio
        self.skip_bucket = skip_bucket
        self.query_heads = check_query_heads(query_heads, 'iRPE')
        if query_heads == 'first' and num_heads != 1:
            raise ValueError("iRPE: query_heads='first' needs one shared table "
                             f'(num_heads=1), got num_heads={num_heads}')
        self.num_buckets = irpe_num_buckets(ratio, skip_bucket)
        self.lookup_table_weight = nn.Parameter(
            torch.zeros(num_heads, head_dim, self.num_buckets))
        self._cache = {}

    def bucket_ids(self, length, height=None, width=None, num_grids=1, device=None):
        if height is None:
            if num_grids != 1:
                raise ValueError('an inferred grid (height=None) needs num_grids=1')
            height = width = int(math.sqrt(length))
        width = height if width is None else width
        skip = length - num_grids * height * width
        if skip < 0:
            raise ValueError(f'{num_grids} grid(s) of {height}x{width} do not fit in '
                             f'{length} tokens')
        if skip > 0 and not self.skip_bucket:
            raise ValueError(f'{skip} skip token(s) but no skip bucket')
        key = (length, height, width, num_grids, str(device))
        if key not in self._cache:
            self._cache[key] = irpe_bucket_ids(height, width, skip, num_grids,
                                               self.ratio, device)
        return self._cache[key]

    def forward(self, x, height=None, width=None, num_grids=1, length=None):
        """``length``: tokens of the key sequence when the queries ``x`` are only its
        first ones (default: as many as the queries); the term is (B, H, Lq, L)."""
        queries = x.shape[2]
        length = queries if length is None else length
        ids = self.bucket_ids(length, height, width, num_grids, x.device)
        return self.lookup(x, ids[:queries] if queries < length else ids)

    def lookup(self, x, ids):
        """The term (B, H or 1, Lq, Lk) of queries ``x`` (B, H, Lq, hd) for bucket
        ids (Lq, Lk), or (B, Lq, Lk) when every sample has its own (a subset of the
        grid's patches per sample)."""
        if self.query_heads == 'first':
            x = x[:, :1]
        # (B, H, L, hd) @ (1 or H, hd, nb) -> (B, H, L, nb): one value per query and bucket
        table = torch.matmul(x, self.lookup_table_weight.to(x.dtype))
        heads = table.shape[1]
        if ids.dim() == 2:
            index = ids[None, None].expand(x.shape[0], heads, -1, -1)
        else:
            index = ids[:, None].expand(-1, heads, -1, -1)
        return torch.gather(table, -1, index)

    def extra_repr(self):
        return (f'head_dim={self.head_dim}, num_heads={self.num_heads}, '
                f'ratio={self.ratio}, num_buckets={self.num_buckets}, '
                f'query_heads={self.query_heads!r}')


@MODELS.register_module()
class RPEAttention(nn.Module):
    """Multi-head self-attention with iRPE on the keys (after the references' ``RPEAttention``, MIT).

    ``softmax(q k^T * scale + rpe_k(q * scale)) v`` then ``proj``; parameter names
    ``qkv``, ``proj``, ``rpe_k.lookup_table_weight`` as in the reference, whose
    weights therefore load unchanged.

    Args:
        dim (int): Token width.
        num_heads (int): Heads.
        qkv_bias (bool): Bias of ``qkv`` (True in OmniSat's / AnySat's blocks).
        qk_scale (float, optional): Logit scale; ``head_dim ** -0.5`` by default.
        attn_drop (float): Dropout on the attention weights.
        proj_drop (float): Dropout after ``proj``.
        rpe (bool): Use iRPE (otherwise plain attention). Default True.
        rpe_ratio (float): iRPE ratio. Default 1.9.
        rpe_shared_head (bool): One table for all heads. Default True.
        grid (str): ``'inferred'`` (reference: ``floor(sqrt(L))`` over all tokens, the
            rest skip tokens) or ``'per_modality'`` (``forward`` gets ``hw_shape`` and
            ``num_grids``; each modality block is its own grid).
        rpe_query_heads (str): ``query_heads`` of the iRPE, ``'own'`` (default) or
            ``'first'`` (AnySat's release).

    ``forward(x, hw_shape=None, num_grids=1, num_queries=None)``: x (B, L, dim). With
    ``grid='per_modality'`` the last ``num_grids * h * w`` tokens are ``num_grids``
    row-major ``h x w`` grids and the leading ones skip tokens (cls). With
    ``num_queries=q`` only the first ``q`` tokens query (all ``L`` are keys and
    values) and the output is (B, q, dim): the same rows as the full output, without
    computing the others (a patch token reads only the cls row of the last block).
    """

    def __init__(self,
                 dim,
                 num_heads=8,
                 qkv_bias=False,
                 qk_scale=None,
                 attn_drop=0.0,
                 proj_drop=0.0,
                 rpe=True,
                 rpe_ratio=1.9,
                 rpe_shared_head=True,
                 grid='inferred',
                 rpe_query_heads='own'):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim={dim} is not divisible by num_heads={num_heads}')
        if grid not in ('inferred', 'per_modality'):
            raise ValueError(f"grid must be 'inferred' or 'per_modality', got {grid!r}")
        self.num_heads, self.grid = num_heads, grid
        head_dim = dim // num_heads
        self.scale = qk_scale or head_dim**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.rpe_k = iRPE(
            head_dim,
            1 if rpe_shared_head else num_heads,
            rpe_ratio,
            query_heads=rpe_query_heads) if rpe else None

    def forward(self, x, hw_shape=None, num_grids=1, num_queries=None):
        b, n, c = x.shape
        heads, hd = self.num_heads, c // self.num_heads
        if num_queries is None or num_queries >= n:
            qkv = self.qkv(x).reshape(b, n, 3, heads, hd)
            q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
            nq = n
        else:  # the query rows of the fused projection on the first tokens only
            nq = num_queries
            w, bias_qkv = self.qkv.weight, self.qkv.bias
            q = F.linear(x[:, :nq], w[:c], None if bias_qkv is None else bias_qkv[:c])
            kv = F.linear(x, w[c:], None if bias_qkv is None else bias_qkv[c:])
            q = q.reshape(b, nq, heads, hd).transpose(1, 2)
            k, v = kv.reshape(b, n, 2, heads, hd).permute(2, 0, 3, 1, 4).unbind(0)
        bias = None
        if self.rpe_k is not None:
            if self.grid == 'inferred':
                bias = self.rpe_k(q * self.scale, length=n)
            else:
                if hw_shape is None:
                    raise ValueError("grid='per_modality' needs hw_shape")
                bias = self.rpe_k(q * self.scale, hw_shape[0], hw_shape[1], num_grids,
                                  length=n)
        out = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=bias,
            dropout_p=self.attn_drop.p if self.training else 0.0,
            scale=self.scale)
        out = self.proj(out.transpose(1, 2).reshape(b, nq, c))
        return self.proj_drop(out)
