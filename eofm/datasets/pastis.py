"""PASTIS, PASTIS-R, PASTIS-HD and PASTIS-MM in their official layouts."""

__all__ = []
