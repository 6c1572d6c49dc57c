"""Fusion modules: up heads, multi-modal temporal fusion, geo-context integration."""
from .geo_context import GeoContextIntegration, region_index
from .temporal_fusion import FusionLayer, MultiModalTemporalFusion, date_table_lookup
from .up_head import SkySenseUpHead

__all__ = [
    'FusionLayer', 'GeoContextIntegration', 'MultiModalTemporalFusion',
    'SkySenseUpHead', 'date_table_lookup', 'region_index'
]
