"""The features of a built model for a preprocessed batch: one rule for every tool
that reads them (the probe tool, the scene inference's embeddings)."""
import torch

__all__ = ['model_features']


def model_features(model, inputs, feature=None):
    """A model's features: its ``probe_features(inputs)`` when it defines one, else
    ``extract_feat(inputs)`` (a pretraining algorithm's exported encoder, e.g.
    SkySense's teacher; a segmentor's backbone + neck), else ``backbone(inputs)``,
    else the model itself (a bare backbone config). A tuple or list gives its last
    element (the deepest map).

    With ``feature``, the map of that name from the model's
    ``named_features(inputs)`` (e.g. SkySense's ``'fused'``, ``'fused_mm'`` or one
    modality's encoder features ``'hr'`` / ``'s2'`` / ``'s1'``): the probes of
    each part of a model, for ablations.
    """
    if feature is not None:
        named = getattr(model, 'named_features', None)
        if named is None:
            raise TypeError(f'{type(model).__name__}: a feature name ({feature!r}) needs '
                            'a model with named_features(inputs); leave it out for the '
                            "model's default features")
        maps = named(inputs)
        if feature not in maps:
            raise TypeError(f'{type(model).__name__}: no feature {feature!r}; it has '
                            f'{sorted(maps)}')
        return maps[feature]
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
