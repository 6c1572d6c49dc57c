"""FLAIR in its official layout."""

__all__ = []
