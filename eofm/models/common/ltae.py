"""Lightweight Temporal Attention Encoder (L-TAE), as OmniSat and AnySat configure it.

L-TAE (Sainte Fare Garnot & Landrieu, 2020) collapses a time series of per-pixel (or
per-patch) spectra into one vector: an input MLP lifts every date to ``d_model``
channels, a sinusoidal day-of-year encoding is added, and ``n_head`` learned master
queries (one ``d_k`` vector per head, no query projection) attend over the dates with
keys ``Linear(d_model -> n_head * d_k)``, temperature ``sqrt(d_k)``; the values of
head ``h`` are the channel slice ``[h * d_model / n_head, (h + 1) * d_model / n_head)``
of the input itself. The heads' outputs are concatenated, passed through the output MLP
and a ``GroupNorm(n_head)``. OmniSat uses it as the projector of the Sentinel time
series (one token per patch), AnySat as the projector of every time-series modality.

The computation, the parameter layout and the state-dict keys follow OmniSat's
``LTAE2d`` (``src/models/networks/encoder/utils/ltae.py``, MIT) and AnySat's variant
(same file; ``GroupNorm(4)`` instead of ``BatchNorm1d`` in the MLPs, a learned pad
value for missing dates), so the reference's weights load unchanged and give the same
outputs:

* input MLP ``[in_channels] + mlp_in``: ``Linear -> norm -> ReLU -> Dropout`` per layer
  (``inconv``), then the optional ``GroupNorm(n_head, d_model)`` (``in_norm``);
* output MLP ``[d_model] + mlp``: ``Linear -> norm -> ReLU`` per layer; as in the
  reference, ``d_model`` is *prepended* to ``mlp``, so OmniSat's ``mlp=[256, 512, 256]``
  has three layers (256 -> 256 -> 512 -> 256);
* ``Dropout(dropout)`` after the output MLP, then ``GroupNorm(n_head, mlp[-1])``;
* the positional encoding of date ``t`` in channel ``c`` is
  ``sin/cos(t / T ** (2 * (c' // 2) / d))`` with ``d = d_model // n_head``,
  ``c' = c mod d`` (sine on even ``c'``), i.e. one ``d``-wide table repeated per head;
* padded dates get the logit ``-1000`` (not ``-inf``), as in the reference.
"""
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn

from eofm.registry import MODELS

__all__ = ['LTAE', 'date_positional_encoding']


def date_positional_encoding(dates, d, T=1000, repeat=1):
    """Sinusoidal encoding of dates (days), L-TAE's ``PositionalEncoder``.

    Args:
        dates (Tensor): (..., T) dates, e.g. day of year (ints or floats).
        d (int): Width of one table.
        T (float): Period constant (367 for day of year in OmniSat / AnySat).
        repeat (int): The table is concatenated ``repeat`` times (once per head).

    Returns:
        Tensor: (..., T, d * repeat) float; channel ``2i`` is ``sin(t / T^(2i/d))``,
        channel ``2i + 1`` is ``cos(t / T^(2i/d))``.
    """
    channels = torch.arange(d, device=dates.device)
    denom = torch.pow(T, 2 * (channels.float() // 2) / d)
    angle = dates[..., None].float() / denom
    table = torch.where(channels % 2 == 0, angle.sin(), angle.cos())
    return torch.cat([table] * repeat, dim=-1) if repeat > 1 else table


def _norm(kind, channels, groups):
    if kind == 'bn':
        return nn.BatchNorm1d(channels)
    if kind == 'gn':
        return nn.GroupNorm(groups, channels)
    raise ValueError(f"norm must be 'bn' or 'gn', got {kind!r}")


class _MasterQueryAttention(nn.Module):
    """L-TAE's multi-head attention with one learned query per head.

    Keys ``attention_heads.Q`` (n_head, d_k) and ``attention_heads.fc1_k`` as in the
    reference; both initialised ``N(0, sqrt(2 / d_k))``.
    """

    def __init__(self, n_head, d_k, d_in, attn_dropout=0.1):
        super().__init__()
        self.n_head, self.d_k, self.d_in = n_head, d_k, d_in
        self.Q = nn.Parameter(torch.zeros(n_head, d_k))
        nn.init.normal_(self.Q, mean=0, std=math.sqrt(2.0 / d_k))
        self.fc1_k = nn.Linear(d_in, n_head * d_k)
        nn.init.normal_(self.fc1_k.weight, mean=0, std=math.sqrt(2.0 / d_k))
        self.temperature = d_k**0.5
        self.dropout = nn.Dropout(attn_dropout)

    def forward(self, v, pad_mask=None):
        """v: (N, T, d_in); pad_mask: (N, T) bool, True = padded date.

        Returns (N, d_in) (heads concatenated) and the attention (n_head, N, T).
        """
        n, t, _ = v.shape
        k = self.fc1_k(v).view(n, t, self.n_head, self.d_k)
        attn = torch.einsum('hd,nthd->hnt', self.Q, k) / self.temperature
        if pad_mask is not None:
            attn = attn.masked_fill(pad_mask[None], -1e3)
        attn = self.dropout(attn.softmax(dim=-1))
        values = v.view(n, t, self.n_head, self.d_in // self.n_head)
        out = torch.einsum('hnt,nthc->nhc', attn, values).reshape(n, self.d_in)
        return out, attn


@MODELS.register_module()
class LTAE(nn.Module):
    """Lightweight Temporal Attention Encoder (after OmniSat's / AnySat's ``LTAE2d``, MIT).

    Args:
        in_channels (int): Channels of one date (10 for Sentinel-2, 2 for Sentinel-1).
        n_head (int): Attention heads. Default 16.
        d_k (int): Key / query width per head. Default 8.
        mlp_in (Sequence[int]): Widths of the input MLP after ``in_channels``; its last
            entry is ``d_model``. Empty: no input MLP, ``d_model = in_channels``.
        mlp (Sequence[int]): Widths of the output MLP after ``d_model`` (the reference
            convention: ``d_model`` is prepended). Its last entry is the output width.
        dropout (float): Dropout of the input MLP layers and after the output MLP.
        attn_dropout (float): Dropout on the attention weights (0.1 in the reference).
        T (float): Period of the date encoding (367 for day of year).
        in_norm (bool): ``GroupNorm(n_head, d_model)`` after the input MLP (OmniSat's and
            AnySat's Sentinel-2 projectors: True; Sentinel-1: False).
        norm (str): Norm of the MLP layers: ``'bn'`` (``BatchNorm1d``, OmniSat) or
            ``'gn'`` (``GroupNorm(mlp_groups)``, AnySat).
        mlp_groups (int): Groups of the ``'gn'`` MLP norm. Default 4.
        positional_encoding (bool): Add the date encoding. Default True.
        pad_value (bool): AnySat's learned pad scalar (``pad_parameter``, initialised
            0): the inputs of padded dates are replaced by it before the MLP.
        mask_attention (bool): Give padded dates the logit -1000 (OmniSat / original
            L-TAE). AnySat's release masks by ``pad_value`` only (False).
        return_att (bool): ``forward`` also returns the attention averaged over heads
            and pixels, (B, T) (OmniSat's ``return_att``; used for date filtering).

    Inputs of ``forward``: ``x`` (B, T, C) or (B, T, C, H, W) (one L-TAE per pixel),
    ``dates`` (B, T), ``pad_mask`` (B, T) bool with True for a missing date. Output:
    (B, mlp[-1]) or (B, mlp[-1], H, W). The returned attention is the one the values
    were averaged with (after attention dropout in training, as in the reference).
    """

    def __init__(self,
                 in_channels: int = 128,
                 n_head: int = 16,
                 d_k: int = 8,
                 mlp_in: Sequence[int] = (32, 128, 256),
                 mlp: Sequence[int] = (256, 512, 256),
                 dropout: float = 0.2,
                 attn_dropout: float = 0.1,
                 T: float = 1000,
                 in_norm: bool = True,
                 norm: str = 'bn',
                 mlp_groups: int = 4,
                 positional_encoding: bool = True,
                 pad_value: bool = False,
                 mask_attention: bool = True,
                 return_att: bool = False):
        super().__init__()
        self.in_channels, self.n_head, self.T = in_channels, n_head, T
        self.return_att, self.mask_attention = return_att, mask_attention
        self.use_positional_encoding = positional_encoding
        widths = [in_channels] + list(mlp_in)
        self.d_model = widths[-1]
        if self.d_model % n_head:
            raise ValueError(
                f'd_model={self.d_model} is not divisible by n_head={n_head}')
        if mlp_in:
            layers = []
            for c_in, c_out in zip(widths[:-1], widths[1:]):
                layers += [
                    nn.Linear(c_in, c_out),
                    _norm(norm, c_out, mlp_groups),
                    nn.ReLU(),
                    nn.Dropout(dropout)
                ]
            self.inconv = nn.Sequential(*layers)
        else:
            self.inconv = None
        self.in_norm = nn.GroupNorm(n_head, self.d_model) if in_norm else nn.Identity()
        self.attention_heads = _MasterQueryAttention(n_head, d_k, self.d_model,
                                                     attn_dropout)
        widths = [self.d_model] + list(mlp)
        layers = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [
                nn.Linear(c_in, c_out),
                _norm(norm, c_out, mlp_groups),
                nn.ReLU()
            ]
        self.mlp = nn.Sequential(*layers)
        self.out_channels = widths[-1]
        self.dropout = nn.Dropout(dropout)
        self.out_norm = nn.GroupNorm(n_head, self.out_channels)
        self.pad_parameter = nn.Parameter(torch.tensor(0.0)) if pad_value else None

    def forward(self,
                x: torch.Tensor,
                dates: Optional[torch.Tensor] = None,
                pad_mask: Optional[torch.Tensor] = None):
        spatial = x.dim() == 5
        if spatial:
            b, t, c, h, w = x.shape
        elif x.dim() == 3:
            (b, t, c), h, w = x.shape, 1, 1
        else:
            raise ValueError(
                f'x must be (B, T, C) or (B, T, C, H, W), got {tuple(x.shape)}')
        if self.pad_parameter is not None:
            if pad_mask is not None:
                view = pad_mask.view(b, t, *([1] * (x.dim() - 2))).bool()
                x = torch.where(view, self.pad_parameter.to(x.dtype), x)
            else:  # keep the parameter in the graph (no unused parameters under DDP)
                x = x + 0 * self.pad_parameter
        out = x.reshape(b, t, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, t, c)
        if self.inconv is not None:
            out = self.inconv(out.reshape(-1, c)).view(b * h * w, t, -1)
        out = self.in_norm(out.transpose(1, 2)).transpose(1, 2)
        if self.use_positional_encoding:
            if dates is None:
                raise ValueError('LTAE with positional_encoding needs dates (B, T)')
            pe = date_positional_encoding(dates, self.d_model // self.n_head, self.T,
                                          self.n_head).to(out.dtype)
            out = out + pe.repeat_interleave(h * w, dim=0)
        mask = None
        if pad_mask is not None and self.mask_attention:
            mask = pad_mask.bool().repeat_interleave(h * w, dim=0)
        out, attn = self.attention_heads(out, pad_mask=mask)
        out = self.out_norm(self.dropout(self.mlp(out)))
        if spatial:
            out = out.view(b, h, w, -1).permute(0, 3, 1, 2)
        else:
            out = out.view(b, -1)
        if self.return_att:
            return out, attn.view(self.n_head, b, h * w, t).mean(dim=(0, 2))
        return out

    def extra_repr(self):
        return (f'in_channels={self.in_channels}, d_model={self.d_model}, '
                f'n_head={self.n_head}, T={self.T}')
