"""MMEngine's three-mode ``forward`` for eofm's algorithms and task models.

``BaseModel.forward(inputs, data_samples, mode)`` must dispatch to ``loss`` /
``predict`` / a raw tensor forward (MMEngine's model contract). mmpretrain's,
mmseg's and mmdet's base classes each do it for their own model families, but
eofm's algorithms (MsGFM, OmniSat's and AnySat's pretraining) and task models
(change detection, image-to-image) derive from ``mmengine.model.BaseModel``
directly, as their constructors build other parts: this mixin is the one copy of
the dispatch.
"""

__all__ = ['ModeForwardMixin']


class ModeForwardMixin:
    """``forward`` for ``mode`` in ('loss', 'predict', 'tensor').

    The class defines ``loss(inputs, data_samples)``, ``predict(inputs,
    data_samples)`` and ``forward_tensor(inputs)`` (what ``mode='tensor'`` gives).
    """

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_tensor(inputs)
        raise ValueError(f"{type(self).__name__}: mode must be 'loss', 'predict' or "
                         f"'tensor', got {mode!r}")
