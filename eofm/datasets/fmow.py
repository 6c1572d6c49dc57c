"""fMoW-Sentinel2 in its official layout."""

__all__ = []
