"""SEN12MS and SEN12MS-CR in their official layouts."""

__all__ = []
