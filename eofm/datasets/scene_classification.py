"""Scene classification benchmarks (AID, NWPU-RESISC45) over mmpretrain's CustomDataset."""

__all__ = []
