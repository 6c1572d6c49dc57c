"""Benchmark detection datasets (DIOR horizontal boxes, FAIR1M), over mmdet/mmrotate classes."""

__all__ = []
