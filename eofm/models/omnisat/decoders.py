"""OmniSat's time-series reconstruction decoder with attention-based date filtering.

Paper Sec. 3.2 ("Multimodal reconstruction"): a Sentinel time series is reconstructed
from the fused patch tokens only at the dates the L-TAE projector attended to most,
per sample the dates whose head- and pixel-averaged L-TAE attention is strictly above
its ``1 - threshold`` quantile (top 25 % by default). The target token of patch ``p``
at date ``t`` is the fused token ``f_p`` plus a frozen sinusoidal encoding of the day
of year, and a linear layer maps it to the ``C`` channels.

After OmniSat's ``DecoderSentinel`` (``src/models/networks/decoders.py``, MIT):
``decode.0`` ``Linear(d -> C)`` (``inter_dim`` adds ``Linear -> ReLU`` layers before
it), ``temp_encoding`` a frozen ``nn.Embedding(T, d)`` (T = 367) sinusoid table
(counted in the parameters: 93,952 at d = 256). Differences from the reference: the
valid dates are those of ``date_mask`` (all dates when None) where the reference
takes the dates before the last non-zero one (excluding it); dates are rounded to
integers (float dates crash the reference's embedding); the filtering is vectorised.
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn

from eofm.registry import MODELS
from ..common.ltae import date_positional_encoding

__all__ = ['OmniSatSentinelDecoder', 'filter_dates_by_attention']


def filter_dates_by_attention(attention: torch.Tensor,
                              date_mask: Optional[torch.Tensor] = None,
                              threshold: float = 0.25) -> torch.Tensor:
    """(B, T) bool: per sample, the valid dates whose attention exceeds its
    ``1 - threshold`` quantile (``torch.quantile``, linear interpolation)."""
    keep = torch.zeros_like(attention, dtype=torch.bool)
    for i in range(attention.shape[0]):
        valid = torch.ones_like(keep[i]) if date_mask is None else date_mask[i].bool()
        att = attention[i][valid]
        if att.numel() == 0:
            continue
        q = torch.quantile(att.detach().float(), 1 - threshold)
        keep[i, valid] = att > q
    return keep


@MODELS.register_module()
class OmniSatSentinelDecoder(nn.Module):
    """Date-filtered linear decoder of one Sentinel time series (paper Sec. 3.2).

    Args:
        in_channels (int): Channels to reconstruct (10 for S2, 2 for S1).
        embed_dim (int): Token width d.
        inter_dim (Sequence[int]): Hidden widths (``Linear -> ReLU``); empty in the
            reference configuration.
        T (int): Days in the frozen date table. Default 367.
        threshold (float): Fraction of dates kept. Default 0.25 (quantile 0.75).
        date_filtering (bool): False reconstructs every valid date (the reference's
            ``DecoderAllSentinel``, ablation "no date filtering").

    ``forward(tokens, attention, dates, date_mask=None)``: fused patch tokens
    (B, N, d), L-TAE attention (B, T), days of year (B, T), valid dates (B, T) or
    None. Returns ``(pred, index)``: pred (K, N, C) for the K kept (sample, date)
    pairs and ``index`` (K, 2) long, their (sample, date) indices.
    """

    def __init__(self,
                 in_channels: int = 10,
                 embed_dim: int = 256,
                 inter_dim: Sequence[int] = (),
                 T: int = 367,
                 threshold: float = 0.25,
                 date_filtering: bool = True):
        super().__init__()
        self.T, self.threshold, self.date_filtering = T, threshold, date_filtering
        widths = [embed_dim] + list(inter_dim)
        layers = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(c_in, c_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], in_channels, bias=True))
        self.decode = nn.Sequential(*layers)
        table = date_positional_encoding(torch.arange(T), embed_dim, T=T)
        self.temp_encoding = nn.Embedding.from_pretrained(table, freeze=True)

    def forward(self,
                tokens: torch.Tensor,
                attention: torch.Tensor,
                dates: torch.Tensor,
                date_mask: Optional[torch.Tensor] = None):
        if self.date_filtering:
            keep = filter_dates_by_attention(attention, date_mask, self.threshold)
        else:
            keep = torch.ones_like(attention, dtype=torch.bool)
            if date_mask is not None:
                keep &= date_mask.bool()
        index = keep.nonzero()  # (K, 2) in (sample, date) order
        days = dates[index[:, 0], index[:, 1]].round().long().clamp(0, self.T - 1)
        x = tokens[index[:, 0]] + self.temp_encoding(days)[:, None, :]
        return self.decode(x), index
