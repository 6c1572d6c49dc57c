"""The band contract: which bands, in which order, an input layer was trained on.

Weights trained on one band set and fed another (another order, a band missing and
zero-filled, RGB weights on RGB + NIR) give numbers that look fine and are wrong.
eofm's encoders therefore name their bands: ``trained`` (what the weights saw:
recorded by the release tables of each model package or the checkpoint's meta) and
``given`` (what the data config loads). :func:`adapt_input_kernel` turns the input
layer's kernel (a patch embedding ``(D, C, k, k)`` or a linear ``(D, C)``) trained on
``trained`` into the kernel for ``given``, by name, so that the model computes what
it was trained to compute:

* a band in both: its kernel slice, wherever it sits (reordering is exact);
* a trained band the data lack (``missing``):

  - ``'error'`` (default): a :class:`BandMismatchError` naming the band, the
    modality and where the weights come from;
  - ``'mean'``: as if the band were always at its training mean (0 after the
    normalisation): its slice is dropped;
  - ``'zero'``: as if the band held the physical value 0: its slice is dropped and
    its constant contribution ``sum(w) * (0 - mean) / std`` moved into the bias
    (needs the normalisation statistics);
  - ``'drop-and-adapt'``: the slice is dropped and the remaining ones scaled by
    ``C_trained / C_kept`` so that the layer's response keeps its magnitude
    (fine-tuning adapts the rest);

* a given band the weights never saw (``extra``):

  - ``'error'`` (default);
  - ``'new'``: a zero slice (the band is ignored until fine-tuning learns it);
  - ``'copy:<band>'``: the slice of a trained band (SkySense's release converter
    gave RGB + NIR the red kernel: ``'copy:R'``).

Every adaptation is logged once per layer, with the bands affected.
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import torch

__all__ = [
    'BandMismatchError', 'BandPlan', 'plan_bands', 'adapt_input_kernel', 'MISSING_POLICIES',
    'EXTRA_POLICIES'
]

MISSING_POLICIES = ('error', 'mean', 'zero', 'drop-and-adapt')
EXTRA_POLICIES = ('error', 'new', 'copy:<band>')


class BandMismatchError(ValueError):
    """The data's bands do not fit the weights' and no policy says what to do."""


class BandPlan(NamedTuple):
    """How the given bands map onto the trained ones."""
    source: Tuple[Optional[int], ...]  # per given band: its trained index (None: extra)
    missing: Tuple[str, ...]  # trained bands the data lack
    extra: Tuple[str, ...]  # given bands the weights never saw
    reordered: bool


def _check_names(bands, what, where):
    bands = tuple(bands)
    dup = sorted({b for b in bands if bands.count(b) > 1})
    if dup:
        raise BandMismatchError(f'{where}: {what} bands list {dup} more than once')
    return bands


def plan_bands(trained: Sequence[str], given: Sequence[str], missing='error',
               extra='error', where='') -> BandPlan:
    """Match ``given`` bands to ``trained`` ones by name; raise for what no policy
    allows (see the module docstring)."""
    trained = _check_names(trained, 'trained', where)
    given = _check_names(given, 'given', where)
    if missing not in MISSING_POLICIES:
        raise ValueError(f'{where}: missing-band policy must be one of {MISSING_POLICIES}, '
                         f'got {missing!r}')
    if not (extra in ('error', 'new') or str(extra).startswith('copy:')):
        raise ValueError(f"{where}: extra-band policy must be 'error', 'new' or "
                         f"'copy:<band>', got {extra!r}")
    lacking = tuple(b for b in trained if b not in given)
    unseen = tuple(b for b in given if b not in trained)
    if lacking and missing == 'error':
        raise BandMismatchError(
            f'{where}: the data lack the band(s) {list(lacking)} the weights were '
            f'trained on (trained: {list(trained)}; given: {list(given)}). Load them, '
            "or choose a policy for missing bands: 'mean', 'zero' or 'drop-and-adapt'")
    if unseen and extra == 'error':
        raise BandMismatchError(
            f'{where}: the data have band(s) {list(unseen)} the weights never saw '
            f'(trained: {list(trained)}; given: {list(given)}). Drop them from the data '
            "config, or choose a policy for extra bands: 'new' or 'copy:<band>'")
    if str(extra).startswith('copy:') and extra[5:] not in trained:
        raise BandMismatchError(f'{where}: {extra!r} names a band the weights were not '
                                f'trained on ({list(trained)})')
    source = tuple(trained.index(b) if b in trained else None for b in given)
    kept = [i for i in source if i is not None]
    return BandPlan(source, lacking, unseen, kept != sorted(kept))


def adapt_input_kernel(weight: torch.Tensor,
                       bias: Optional[torch.Tensor],
                       trained: Sequence[str],
                       given: Sequence[str],
                       missing='error',
                       extra='error',
                       stats: Optional[Dict[str, Sequence[float]]] = None,
                       where='') -> Tuple[torch.Tensor, Optional[torch.Tensor], str]:
    """The input layer for ``given`` bands from one trained on ``trained``.

    Args:
        weight (Tensor): (D, C_trained, ...) kernel (conv or linear), channel dim 1.
        bias (Tensor, optional): (D,) bias (needed by ``missing='zero'``).
        stats (dict, optional): ``mean`` / ``std`` per trained band (normalisation),
            needed by ``missing='zero'``.
        where (str): Names the layer and its weights in errors and the log.

    Returns:
        (weight, bias, message): the adapted kernel (D, C_given, ...), bias, and a
        one-line description of what was done ('' when nothing).
    """
    trained, given = tuple(trained), tuple(given)
    if weight.shape[1] != len(trained):
        raise BandMismatchError(f'{where}: the kernel has {weight.shape[1]} input '
                                f'channels but {len(trained)} trained bands are named '
                                f'({list(trained)})')
    plan = plan_bands(trained, given, missing, extra, where)
    if not plan.missing and not plan.extra and not plan.reordered:
        return weight, bias, ''
    parts = []
    new_bias = bias
    if plan.missing:
        gone = [trained.index(b) for b in plan.missing]
        if missing == 'zero':
            if stats is None or bias is None:
                raise BandMismatchError(f"{where}: missing='zero' needs the layer's bias "
                                        'and the normalisation statistics of the bands')
            mean = torch.as_tensor(stats['mean'], dtype=weight.dtype)
            std = torch.as_tensor(stats['std'], dtype=weight.dtype)
            value = (0 - mean[gone]) / std[gone]  # the normalised physical zero
            w = weight[:, gone].flatten(2).sum(-1) if weight.dim() > 2 else weight[:, gone]
            new_bias = bias + (w * value).sum(1)
        parts.append(f'missing {list(plan.missing)}: {missing}')
    slices = []
    for b, src in zip(given, plan.source):
        if src is not None:
            slices.append(weight[:, src])
        elif extra == 'new':
            slices.append(torch.zeros_like(weight[:, 0]))
        else:
            slices.append(weight[:, trained.index(extra[5:])])
    out = torch.stack(slices, 1)
    if plan.missing and missing == 'drop-and-adapt':
        kept = sum(s is not None for s in plan.source)
        out = out * (len(trained) / max(kept, 1))
    if plan.extra:
        parts.append(f'extra {list(plan.extra)}: {extra}')
    if plan.reordered:
        parts.append('reordered by name')
    return out.contiguous(), new_bias, f'{where}: bands {list(given)} from weights ' \
        f'trained on {list(trained)} ({"; ".join(parts)})'
