"""Collate function for samples whose modalities differ."""
from eofm.registry import FUNCTIONS

__all__ = ['multimodal_collate']


@FUNCTIONS.register_module()
def multimodal_collate(data_batch):
    """Keep ``inputs`` as a list of per-sample dicts and ``data_samples`` as a list.

    MMEngine's ``pseudo_collate`` turns a list of dicts into a dict of lists keyed by
    the first sample's keys, which fails when a later sample lacks a modality.
    :class:`eofm.models.MultiModalDataPreprocessor` does the batching (padding,
    missing-modality flags). Use ``collate_fn=dict(type='eofm.multimodal_collate')``.
    """
    return dict(
        inputs=[d['inputs'] for d in data_batch],
        data_samples=[d.get('data_samples') for d in data_batch])
