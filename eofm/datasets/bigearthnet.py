"""BigEarthNet-S2 and BigEarthNet-MM (19 classes) in their official layouts."""

__all__ = []
