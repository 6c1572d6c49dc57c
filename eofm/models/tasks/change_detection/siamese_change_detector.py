"""Siamese bi-temporal change detection with a foundation-model encoder.

SkySense evaluates change detection (paper Sec. 4.2 and supplementary K, Table J13
(iv)) by putting one pretrained encoder into a Siamese framework: the same weights
encode the image before (``pre``) and after (``post``) the change, and a change head
compares the two feature pyramids: BIT on LEVIR-CD (:class:`BITHead`), a U-Net on
OSCD (:class:`UNetChangeHead`). Both dates go through the backbone (and the optional
neck, e.g. ``dict(type='mmseg.MultiLevelNeck', ...)`` to give a ViT several scales)
as one batch of 2B images.

Inputs come from :class:`eofm.MultiModalDataPreprocessor`: ``inputs[keys[0]]`` and
``inputs[keys[1]]`` (B, C, H, W). Labels are each data sample's ``gt_change_map``
(H, W) (0 no change, 1 change, 255 ignored); predictions are written to
``pred_change_map`` (H, W, long 0/1), and the logits to ``change_logits`` when
``test_cfg['output_logits']`` is set.

Test modes: ``dict(mode='whole')`` runs the whole image at once;
``dict(mode='slide', crop_size=(h, w), stride=(sh, sw))`` runs windows (the last
one of a row / column flush with the image edge, as in mmseg) and averages the
logits where windows overlap, for images larger than the training crops (LEVIR-CD
test images are 1024 px, the training crops 256 px).
"""
import torch
from mmengine.model import BaseModel

from eofm.registry import MODELS
from eofm.structures.batch_schema import present_key
from ...common.modes import ModeForwardMixin

__all__ = ['SiameseChangeDetector']


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int) and v > 0 for v in value):
        raise ValueError(f'SiameseChangeDetector: test_cfg.{name} must be a positive '
                         f'int or (h, w), got {value}')
    return value


@MODELS.register_module()
class SiameseChangeDetector(ModeForwardMixin, BaseModel):
    """Shared backbone on two dates + a change head (see the module docstring).

    Args:
        backbone (dict): Any registered backbone returning a tuple of feature maps
            (or one map).
        decode_head (dict): A change head (``eofm.BITHead``, ``eofm.UNetChangeHead``).
        neck (dict, optional): Applied to the backbone outputs of both dates.
        keys (tuple[str]): The input keys of the earlier and the later image.
        train_cfg (dict, optional): Unused, for symmetry with mmseg.
        test_cfg (dict, optional): ``mode`` 'whole' (default) or 'slide' with
            ``crop_size`` and ``stride``; ``output_logits`` (bool).
        data_preprocessor (dict, optional): Defaults to
            ``eofm.MultiModalDataPreprocessor``.
        init_cfg (dict, optional): Initialisation.
    """

    def __init__(self,
                 backbone,
                 decode_head,
                 neck=None,
                 keys=('pre', 'post'),
                 train_cfg=None,
                 test_cfg=None,
                 data_preprocessor=None,
                 init_cfg=None):
        data_preprocessor = data_preprocessor or dict(
            type='eofm.MultiModalDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        keys = tuple(keys)
        if len(keys) != 2 or keys[0] == keys[1]:
            raise ValueError(f'SiameseChangeDetector: keys must name two different '
                             f'inputs (earlier, later), got {keys}')
        self.keys = keys
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        self.decode_head = MODELS.build(decode_head)
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or dict(mode='whole'))
        mode = self.test_cfg.setdefault('mode', 'whole')
        if mode == 'slide':
            for name in ('crop_size', 'stride'):
                if name not in self.test_cfg:
                    raise KeyError(
                        f"SiameseChangeDetector: test_cfg mode='slide' needs "
                        f'{name}')
                self.test_cfg[name] = _pair(self.test_cfg[name], name)
        elif mode != 'whole':
            raise ValueError(f"SiameseChangeDetector: test_cfg.mode must be 'whole' or "
                             f"'slide', got {mode!r}")

    # ------------------------------------------------------------------ inputs
    def _images(self, inputs):
        """The two dates' (B, C, H, W) images, checked."""
        if not isinstance(inputs, dict):
            raise TypeError(f'SiameseChangeDetector: inputs must be a dict with keys '
                            f'{self.keys}, got {type(inputs).__name__}')
        missing = [k for k in self.keys if k not in inputs]
        if missing:
            raise KeyError(f'SiameseChangeDetector: inputs lack {missing} (they have '
                           f'{sorted(inputs)}); set keys=(earlier, later) to the names '
                           'the pipeline packs')
        a, b = (inputs[k] for k in self.keys)
        if a.dim() != 4 or a.shape != b.shape:
            raise ValueError(
                f'SiameseChangeDetector: {self.keys[0]!r} and '
                f'{self.keys[1]!r} must be (B, C, H, W) of the same shape, '
                f'got {tuple(a.shape)} and {tuple(b.shape)}')
        present = [inputs.get(present_key(k)) for k in self.keys]
        for k, p in zip(self.keys, present):
            if p is not None and not bool(p.all()):
                raise ValueError(f'SiameseChangeDetector: some samples lack {k!r}')
        return a, b

    # ------------------------------------------------------------------ network
    def extract_feat(self, a, b):
        """Backbone (+ neck) features of both dates, computed as one 2B batch."""
        feats = self.backbone(torch.cat([a, b], dim=0))
        if isinstance(feats, torch.Tensor):
            feats = (feats, )
        if self.neck is not None:
            feats = self.neck(list(feats))
        n = a.shape[0]
        return [f[:n] for f in feats], [f[n:] for f in feats]

    def encode_decode(self, a, b):
        """(B, out_channels, H, W) change logits of one image pair batch."""
        feats_a, feats_b = self.extract_feat(a, b)
        return self.decode_head(feats_a, feats_b, a.shape[-2:])

    def slide_inference(self, a, b):
        """Window-wise logits averaged where windows overlap (see the module doc)."""
        h_crop, w_crop = self.test_cfg['crop_size']
        h_stride, w_stride = self.test_cfg['stride']
        n, _, h, w = a.shape
        h_grids = max(h - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w - w_crop + w_stride - 1, 0) // w_stride + 1
        logits = a.new_zeros((n, self.decode_head.out_channels, h, w))
        count = a.new_zeros((1, 1, h, w))
        for i in range(h_grids):
            for j in range(w_grids):
                y2 = min(i * h_stride + h_crop, h)
                x2 = min(j * w_stride + w_crop, w)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                logits[:, :, y1:y2,
                       x1:x2] += self.encode_decode(a[:, :, y1:y2, x1:x2],
                                                    b[:, :, y1:y2, x1:x2])
                count[:, :, y1:y2, x1:x2] += 1
        return logits / count

    def inference(self, a, b):
        if self.test_cfg['mode'] == 'slide':
            return self.slide_inference(a, b)
        return self.encode_decode(a, b)

    # ------------------------------------------------------------------ modes
    def forward_tensor(self, inputs):
        """``mode='tensor'``: the change logits of the two acquisitions."""
        return self.encode_decode(*self._images(inputs))

    @staticmethod
    def _labels(data_samples, size):
        if not data_samples or any('gt_change_map' not in s for s in data_samples):
            raise KeyError('SiameseChangeDetector: training needs gt_change_map in '
                           'every data sample')
        gt = torch.stack([s.gt_change_map for s in data_samples])
        if gt.shape[-2:] != tuple(size):
            raise ValueError(f'SiameseChangeDetector: gt_change_map is '
                             f'{tuple(gt.shape[-2:])} px, the images {tuple(size)}')
        return gt

    def loss(self, inputs, data_samples):
        a, b = self._images(inputs)
        gt = self._labels(data_samples, a.shape[-2:]).to(a.device)
        return self.decode_head.loss_by_logits(self.encode_decode(a, b), gt)

    def predict(self, inputs, data_samples=None):
        a, b = self._images(inputs)
        logits = self.inference(a, b)
        maps = self.decode_head.predict_by_logits(logits)
        if data_samples is None:
            from eofm.structures import MultiModalDataSample
            data_samples = [MultiModalDataSample() for _ in range(a.shape[0])]
        keep_logits = self.test_cfg.get('output_logits', False)
        for sample, pred, logit in zip(data_samples, maps, logits):
            sample.pred_change_map = pred
            if keep_logits:
                sample.change_logits = logit
        return data_samples
