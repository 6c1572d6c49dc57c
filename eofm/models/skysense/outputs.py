"""What :meth:`SkySense.forward` returns: one type on every path."""
import dataclasses
from typing import Optional

__all__ = ['SkySenseOutputs', 'valid_date_mean']


def valid_date_mean(tokens, valid):
    """One modality's tokens (B, T, C, h, w) averaged over its valid dates
    (``valid`` (B, T) bool) -> (B, C, h, w), fp32 weights; a sample without a valid
    date gives zeros."""
    w = valid.float()[:, :, None, None, None]
    return (tokens * w).sum(1) / w.sum(1).clamp_min(1.0)


@dataclasses.dataclass(eq=False, repr=False)
class SkySenseOutputs(tuple):
    """The backbone's feature maps, as a tuple (what the hosts' necks and heads
    take: ``isinstance(x, tuple)``, ``x[-1]``, ``len(x)``), with ``features``: the
    dict of :meth:`SkySense.forward_features` on the fused path (None otherwise).

    The pretraining reads ``features`` from ``forward`` rather than calling
    ``forward_features``, because FSDP gathers a unit's parameters only in its
    ``forward``. It is a dataclass as well as a tuple because FSDP rebuilds the
    outputs of a unit when it hooks their tensors: a plain tuple subclass would come
    back without ``features``, while a dataclass is rebuilt field by field
    (``torch.distributed.utils._apply_to_tensors``).

    Args:
        maps (Sequence[Tensor]): The outputs (see ``SkySense.out_type``).
        features (dict, optional): The fused path's intermediates.
    """

    maps: tuple
    features: Optional[dict] = None

    def __new__(cls, maps, features=None):
        return super().__new__(cls, tuple(maps))

    def __post_init__(self):
        self.maps = tuple(self)

    def __repr__(self):
        shapes = [tuple(m.shape) for m in self]
        keys = None if self.features is None else sorted(self.features)
        return f'SkySenseOutputs(maps={shapes}, features={keys})'
