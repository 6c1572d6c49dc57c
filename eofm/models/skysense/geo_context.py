"""SkySense's attentional geo-context integration (paper Sec. 3.2, Eq. 3).

A bank of region-specific prototypes ``P`` (N_R regions x N_p prototypes x d; the
paper: 4096 x 100) is learned in pretraining (Geo-Context Prototype Learning,
Sec. 3.3). For a sample at (lat, lon), the prototypes ``P_r`` of its region are
attended to by every feature of ``F_fus^mm``::

    F_fus = Concat[F_fus^mm, Softmax(Q K^T / sqrt(d)) V],  Q = F_fus^mm, K = V = P_r

The global partition (:func:`region_index`) is an equal-area grid: ``n_lat`` bands
equally spaced in sin(latitude) times ``n_lon`` equal longitude sectors, so every
region covers the same area (64 x 64 = 4096 regions of about 124,500 km2 each). The
paper states 4096 regions of "approximately 4294 km2", which no partition of the
whole globe into 4096 parts gives; its partition and the prototypes were never
released.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from eofm.registry import MODELS
from .geo_prototype_learning import update_geo_prototypes

__all__ = ['GeoContextIntegration', 'region_index']


def region_index(lon, lat, n_lat=64, n_lon=64):
    """Region id in [0, n_lat * n_lon) of (lon, lat) in degrees (tensors).

    Band ``i`` covers sin(lat) in [-1 + 2i / n_lat, -1 + 2(i + 1) / n_lat); sector
    ``j`` covers lon in [-180 + 360 j / n_lon, ...). The id is ``i * n_lon + j``.
    """
    lon = torch.as_tensor(lon, dtype=torch.float64)
    lat = torch.as_tensor(lat, dtype=torch.float64)
    if not torch.isfinite(lon).all() or not torch.isfinite(lat).all():
        raise ValueError('region_index: lon/lat must be finite (is the location of '
                         'every sample known?)')
    if (lat.abs() > 90).any():
        raise ValueError(f'region_index: latitudes must be in [-90, 90], got '
                         f'{lat[lat.abs() > 90][:3].tolist()}')
    s = torch.sin(torch.deg2rad(lat))
    i = torch.clamp(((s + 1) / 2 * n_lat).floor().long(), 0, n_lat - 1)
    j = torch.remainder(((lon + 180) / 360 * n_lon).floor().long(), n_lon)
    return i * n_lon + j


@MODELS.register_module()
class GeoContextIntegration(nn.Module):
    """Attend fused features to their region's prototypes; concatenate (Eq. 3).

    The prototypes are learned without gradient (Geo-Context Prototype Learning
    updates them by EMA) and "used as the fixed geo-context for downstream tasks"
    (paper Sec. 3.3), so by default they are a persistent buffer: saved and loaded
    like weights, never given to the optimizer, and replicated rather than sharded
    under FSDP (the pretraining updates them in place on every rank).

    Args:
        embed_dims (int): Feature and prototype width d (1024).
        num_prototypes (int): Prototypes per region N_p (100).
        n_lat (int), n_lon (int): The partition; N_R = n_lat * n_lon (64 x 64).
        trainable (bool): Make the prototypes a parameter tuned by the optimizer
            (downstream fine-tuning of the geo-context).
    """

    def __init__(self,
                 embed_dims=1024,
                 num_prototypes=100,
                 n_lat=64,
                 n_lon=64,
                 trainable=False):
        super().__init__()
        self.embed_dims, self.n_lat, self.n_lon = embed_dims, n_lat, n_lon
        self.num_regions = n_lat * n_lon
        bank = torch.randn(self.num_regions, num_prototypes,
                           embed_dims) / math.sqrt(embed_dims)
        if trainable:
            self.prototypes = nn.Parameter(bank)
        else:
            self.register_buffer('prototypes', bank)

    @property
    def out_channels(self):
        return 2 * self.embed_dims

    def regions(self, lonlat):
        """Region ids (B,) of ``lonlat`` (B, 2) in degrees."""
        if lonlat is None:
            raise ValueError('GeoContextIntegration: the samples carry no lon/lat; '
                             'load geo-referenced data (results["geo"]) or disable '
                             'geo_context in the config')
        return region_index(lonlat[:, 0], lonlat[:, 1], self.n_lat,
                            self.n_lon).to(self.prototypes.device)

    def update_prototypes(self, features, lonlat, **kwargs):
        """Geo-context prototype learning step on this module's bank (Eq. 11-13;
        :func:`eofm.models.skysense.geo_prototype_learning.update_geo_prototypes`,
        whose keyword arguments ``momentum``, ``iterations``, ``epsilon`` apply)."""
        return update_geo_prototypes(self, features, lonlat, **kwargs)

    def forward(self, feats, lonlat):
        """(B, d, H, W) and (B, 2) -> (B, 2d, H, W)."""
        b, d, h, w = feats.shape
        if d != self.embed_dims:
            raise ValueError(f'GeoContextIntegration: expected {self.embed_dims} '
                             f'channels, got {d}')
        protos = self.prototypes[self.regions(lonlat)].to(feats.dtype)  # (B, Np, d)
        q = feats.flatten(2).transpose(1, 2)  # (B, HW, d)
        ctx = F.scaled_dot_product_attention(q, protos, protos)
        ctx = ctx.transpose(1, 2).reshape(b, d, h, w)
        return torch.cat([feats, ctx], dim=1)
