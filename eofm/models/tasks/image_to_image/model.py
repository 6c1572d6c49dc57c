"""Image-to-image regression: a target image predicted from other images.

Cloud removal (SEN12MS-CR: Sentinel-1 + cloudy Sentinel-2 -> cloud-free Sentinel-2)
and pan-sharpening (SpaceNet-2) are dense regressions; msGFM (Han et al., CVPR 2024,
Table 3) fine-tunes its encoder with a prediction head for both. The batch comes
from :class:`eofm.MultiModalDataPreprocessor` as a dict of modality tensors: the
backbone reads the input modalities (e.g. :class:`eofm.MsGFMMultiSensor` over
``s1`` and ``s2_cloudy``), the target modality (``target_key``, e.g. ``s2``) is the
ground truth, taken from the same batch, so the target must not be normalised by the
data preprocessor if the scores are to be on its physical scale.
"""
import torch
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from eofm.registry import MODELS
from eofm.structures.batch_schema import mask_key
from ...common.modes import ModeForwardMixin

__all__ = ['ImageToImageModel']


@MODELS.register_module()
class ImageToImageModel(ModeForwardMixin, BaseModel):
    """Backbone (dict of modalities -> feature pyramid), optional neck, and a
    :class:`eofm.PixelRegressionHead` regressing ``inputs[target_key]``.

    Args:
        backbone (dict): Takes the batch dict and returns a tuple of (B, C_i, H_i,
            W_i) maps, finest first.
        head (dict): The regression head (``forward(feats, out_size)``,
            ``loss(pred, target, valid)``).
        target_key (str): Modality of the batch to predict.
        neck (dict, optional): Applied to the backbone's tuple.
        target_range (tuple, optional): (low, high) the target is clipped to
            before the loss and the metrics (e.g. (0, 1) for reflectances).
        use_target_mask (bool): Leave out the target's invalid pixels
            (``<target_key>_mask``) from the loss.
        aux_loss_weight (float): Weight of the backbone's ``aux_loss`` (the
            Mixture-of-Experts balancing loss of msGFM), when it has one.
        data_preprocessor (dict, optional): Default
            ``eofm.MultiModalDataPreprocessor``.
        init_cfg (dict, optional): mmengine init config.

    ``predict`` returns the data samples with ``pred_image`` and ``gt_image`` ((C, H,
    W) tensors, what :class:`eofm.ImageRestorationMetric` reads).
    """

    def __init__(self,
                 backbone,
                 head,
                 target_key,
                 neck=None,
                 target_range=None,
                 use_target_mask=True,
                 aux_loss_weight=0.0,
                 data_preprocessor=None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='eofm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self.target_key = target_key
        if target_range is not None and len(target_range) != 2:
            raise ValueError('ImageToImageModel: target_range must be (low, high), '
                             f'got {target_range!r}')
        self.target_range = None if target_range is None else tuple(
            float(v) for v in target_range)
        self.use_target_mask = use_target_mask
        self.aux_loss_weight = float(aux_loss_weight)

    def extract_feat(self, inputs):
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return tuple(feats)

    def _target(self, inputs):
        if not isinstance(inputs, dict) or self.target_key not in inputs:
            keys = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
            raise KeyError(f'ImageToImageModel: target {self.target_key!r} is not in '
                           f'the batch (keys: {keys}); pack it with '
                           'PackMultiModalInputs')
        target = inputs[self.target_key].float()
        if target.dim() != 4:
            raise ValueError(f'ImageToImageModel: target {self.target_key!r} must be '
                             f'(B, C, H, W), got {tuple(target.shape)}')
        if self.target_range is not None:
            target = target.clamp(*self.target_range)
        return target

    def _predict_image(self, inputs, size):
        return self.head(self.extract_feat(inputs), out_size=size)

    def forward_tensor(self, inputs):
        """``mode='tensor'``: the predicted image (at the target's size when the
        batch holds the target)."""
        size = None
        if isinstance(inputs, dict) and self.target_key in inputs:
            size = tuple(inputs[self.target_key].shape[-2:])
        return self.head(self.extract_feat(inputs), out_size=size)

    def loss(self, inputs, data_samples=None):
        target = self._target(inputs)
        pred = self._predict_image(inputs, tuple(target.shape[-2:]))
        valid = inputs.get(mask_key(self.target_key)) if self.use_target_mask else None
        losses = self.head.loss(pred, target, valid)
        aux = getattr(self.backbone, 'aux_loss', None)
        if self.aux_loss_weight and aux is not None:
            losses['loss_aux'] = self.aux_loss_weight * aux
        return losses

    def predict(self, inputs, data_samples=None):
        target = self._target(inputs)
        pred = self._predict_image(inputs, tuple(target.shape[-2:]))
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(pred.shape[0])]
        for sample, p, t in zip(data_samples, pred.detach(), target):
            sample.pred_image = p
            sample.gt_image = t
        return data_samples
