"""The features of a built model for a preprocessed batch: one rule for every tool
that reads them (the probe tool, the scene inference's embeddings)."""
import torch

__all__ = ['model_features']


def model_features(model, inputs):
    """A model's features: its ``probe_features(inputs)`` when it defines one, else
    ``extract_feat(inputs)`` (a pretraining algorithm's exported encoder, e.g.
    SkySense's teacher; a segmentor's backbone + neck), else ``backbone(inputs)``,
    else the model itself (a bare backbone config). A tuple or list gives its last
    element (the deepest map)."""
    if hasattr(model, 'probe_features'):
        out = model.probe_features(inputs)
    elif hasattr(model, 'extract_feat'):
        out = model.extract_feat(inputs)
    elif hasattr(model, 'backbone'):
        out = model.backbone(inputs)
    else:
        out = model(inputs)
    while isinstance(out, (list, tuple)):
        out = out[-1]
    if not torch.is_tensor(out):
        raise TypeError(f'{type(model).__name__}: its features are a '
                        f'{type(out).__name__}, not a tensor (define probe_features(inputs) '
                        'on the model)')
    return out
