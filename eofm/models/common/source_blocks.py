"""The per-source training step of models fed by :class:`eofm.HeterogeneousBatchSampler`.

A batch of that sampler holds one block of samples per source (dataset or sensor),
one after the other; msGFM (per-source learning rates) and AnySat's multi-dataset
JEPA preprocess, forward and back-propagate each block on its own. The split and the
per-source logs live here, with the models (the data layer only draws the blocks).
"""

__all__ = ['split_source_blocks', 'add_source_logs']


def split_source_blocks(data, batch_sizes, who):
    """The per-source blocks of a batch of :class:`HeterogeneousBatchSampler`.

    Args:
        data (dict): The collated batch (``inputs`` / ``data_samples`` lists, as
            ``eofm.multimodal_collate`` gives them), before preprocessing.
        batch_sizes (Sequence[int]): The sampler's ``batch_sizes``.
        who (str): The model, named in the error.

    Returns:
        list[dict]: One dict of the same keys per source, in order.
    """
    n = len(data['inputs'])
    if n != sum(batch_sizes):
        raise ValueError(f'{who}: the batch has {n} samples, source_batch_sizes '
                         f'{list(batch_sizes)} add up to {sum(batch_sizes)} (use '
                         'eofm.HeterogeneousBatchSampler with the same sizes)')
    blocks, start = [], 0
    for size in batch_sizes:
        blocks.append({k: v[start:start + size] for k, v in data.items()})
        start += size
    return blocks


def add_source_logs(log_vars, logs, source):
    """Add one source block's parsed losses to a per-source step's logs: every
    entry as ``{name}_source{i}``, and its total to ``loss``."""
    for k, v in logs.items():
        log_vars[f'{k}_source{source}'] = v
    log_vars['loss'] = log_vars.get('loss', 0) + logs['loss']
