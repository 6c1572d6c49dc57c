"""TreeSatAI and TreeSatAI-TS in their official layouts."""

__all__ = []
