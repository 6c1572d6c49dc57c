"""DynamicEarthNet (Planet, Sentinel-2, Sentinel-1) in its official layout."""

__all__ = []
