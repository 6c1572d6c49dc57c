"""Change detection benchmarks (OSCD, LEVIR-CD) in their official layouts."""

__all__ = []
