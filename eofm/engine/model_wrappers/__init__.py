from .cpu_ddp import CPUDistributedDataParallel
from .source_block_ddp import SourceBlockDistributedDataParallel

__all__ = ['CPUDistributedDataParallel', 'SourceBlockDistributedDataParallel']
