"""Helpers on the batch dict that eofm's data preprocessor gives every model.

Per modality ``m``: ``m`` (B, C, H, W) or (B, T, C, H, W), ``m_mask`` pixel validity
(B, [T,] H, W), ``m_doy`` / ``m_date_mask`` (B, T) for series, ``m_present`` (B,);
``lonlat`` (B, 2): the keys of :mod:`eofm.structures.batch_schema`.
"""
import torch

from .batch_schema import MASK, split_key

__all__ = ['zero_invalid_pixels']


def zero_invalid_pixels(batch):
    """Set the pixels that ``{m}_mask`` marks invalid to 0 in every modality ``m``.

    ``batch[m]`` (B, [T,] C, H, W) and ``batch[m + '_mask']`` (B, [T,] H, W). Models
    that are given masks call it too, so that their output never depends on what
    lies under the mask, whoever built the batch. Returns a new dict (the tensors
    of unmasked modalities are the same objects).
    """
    out = dict(batch)
    for key, mask in batch.items():
        name, suffix = split_key(key)
        if suffix != MASK:
            continue
        x = batch.get(name)
        if not torch.is_tensor(x) or not x.is_floating_point() or not torch.is_tensor(
                mask) or x.dim() != mask.dim() + 1 or x.shape[:-3] != mask.shape[:-2] \
                or x.shape[-2:] != mask.shape[-2:]:
            continue
        out[name] = x * mask.unsqueeze(-3).to(x.dtype)
    return out
