"""What scene inference does for each kind of model: its forward pass over a batch of
windows, the layers it writes, and what it needs from the scene.

:class:`eofm.apis.SceneInferencer` blends per-pixel float outputs of windows; a task
says how a model gives them and how the blended values become files:

* :class:`SegmentationTask` (mmseg segmentors, every model whose ``predict`` fills
  ``seg_logits``): class probabilities (softmax), written as the class map, the
  per-class probabilities and the confidence;
* :class:`ChangeTask` (:class:`eofm.SiameseChangeDetector` with a BIT or U-Net change
  head): the probabilities of no change / change of two acquisitions, written as
  the segmentation layers (a change map of classes 'no change' / 'change'); a
  sigmoid head's probability is thresholded at the head's ``threshold``;
* :class:`ImageTask` (:class:`eofm.ImageToImageModel`: cloud removal,
  pan-sharpening): the predicted image, written as float32 bands;
* :class:`EmbeddingTask`: the backbone's last feature map (``outputs=['embeddings']``
  with any model).

A change detector compares the model's two inputs (``model.keys``, ``('pre',
'post')`` in eofm's configs). A scene gives them as two modalities of those names
(two files, one per acquisition), or as two date ranges of one series::

    scene = dict(modalities=dict(s2=dict(paths=[...], dates=[...])),
                 change=dict(modality='s2', pre=dict(start='2020-03-01',
                             end='2020-03-31'), post=dict(start='2021-03-01',
                             end='2021-03-31')))

Each range must hold exactly one acquisition of the series (a change detector
compares two images), the first one earlier than the second; the series itself is
then not read, and the reference (when it was the series or not given) is the
earlier acquisition. Output pixels are nodata where either acquisition is.

Image-to-image outputs are written on the reference grid. The target of such a
config (the image it was trained to predict, ``target_key``) is loaded on the grid
of the config's ``LoadMultiModalTiles`` reference (pan-sharpening: the
panchromatic grid), so the scene's reference must be that modality, and the target
must be read with the reference's ``size`` / ``gsd``; otherwise the output would be
on another grid than the model's, and it is an error naming the option.
"""
import hashlib
import os
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F

from eofm.datasets.geo_io import parse_date, raster_info

__all__ = ['SceneInferenceError', 'SEG_OUTPUTS', 'EMBED_OUTPUTS', 'IMAGE_OUTPUTS',
           'build_task', 'SegmentationTask', 'ChangeTask', 'ImageTask',
           'EmbeddingTask', 'change_scene_modalities']

SEG_OUTPUTS = ('class', 'probs', 'confidence')
EMBED_OUTPUTS = ('embeddings', )
IMAGE_OUTPUTS = ('image', )
ALL_OUTPUTS = SEG_OUTPUTS + EMBED_OUTPUTS + IMAGE_OUTPUTS
NODATA_CLASS = {np.uint8: 255, np.uint16: 65535}


class SceneInferenceError(ValueError):
    """The scene, the options or the output folder cannot be used as given."""


def _gdal():
    from osgeo import gdal
    gdal.UseExceptions()
    return gdal


def _resize(x, size):
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


# ---------------------------------------------------------------------- layers
def class_layers(n, class_names, outputs, decide=None):
    """Specs of the segmentation layers of ``n`` blended class probabilities.

    ``decide(v) -> (h, w) class ids`` defaults to the argmax over the classes.
    """
    gdal = _gdal()
    cls_dtype = np.uint8 if n <= 255 else np.uint16
    nd = NODATA_CLASS[cls_dtype]
    decide = decide or (lambda v: v.argmax(0))

    def classes(v, valid):
        return np.where(valid, decide(v), nd).astype(cls_dtype)[None]

    def probs(v, valid):
        q = np.clip(np.rint(v * 254), 0, 254).astype(np.uint8)
        return np.where(valid[None], q, 255).astype(np.uint8)

    def conf(v, valid):
        return probs(v.max(0, keepdims=True), valid)

    specs = {
        'class': dict(bands=1, convert=classes, nodata=nd,
                      dtype=np.dtype(cls_dtype).name,
                      gdal=gdal.GDT_Byte if cls_dtype == np.uint8 else gdal.GDT_UInt16,
                      resampling='NEAREST'),
        'probs': dict(bands=n, convert=probs, nodata=255, dtype='uint8',
                      gdal=gdal.GDT_Byte, resampling='AVERAGE', scale=1 / 254,
                      names=list(class_names)),
        'confidence': dict(bands=1, convert=conf, nodata=255, dtype='uint8',
                           gdal=gdal.GDT_Byte, resampling='AVERAGE', scale=1 / 254),
    }
    return {name: specs[name] for name in outputs}


def float_layer(bands, dtype, names=None):
    """A float layer (NaN where there is no valid input)."""
    gdal = _gdal()

    def convert(v, valid):
        return np.where(valid[None], v, np.nan).astype(dtype)

    return dict(bands=bands, convert=convert, nodata=float('nan'),
                dtype=np.dtype(dtype).name, gdal=gdal.GDT_Float32, resampling='AVERAGE',
                names=names)


# ---------------------------------------------------------------------- tasks
class SceneTask:
    """One kind of model (see the module docstring).

    Attributes:
        name (str): Written to the manifest.
        outputs (tuple[str]): The layers it can write; ``default`` those written when
            the user names none.
        channels (int | None): Blended channels, when known before any window ran.
        classes (list[str]): Class names (segmentation and change).
    """
    name = ''
    outputs = ()
    default = ()

    def __init__(self, model, loader, meta):
        self.model = model
        self.loader = loader  # the LoadMultiModalTiles config of the test pipeline
        self.meta = meta
        self.channels = None
        self.classes = []
        self.palette = None

    def forward(self, inputs, data_samples, size):
        """(B, C, h, w) float outputs on the window grid ``size`` (h, w)."""
        raise NotImplementedError

    def layers(self, channels, outputs):
        raise NotImplementedError

    def validity_keys(self, reference):
        """Modalities whose validity masks decide the valid output pixels."""
        return (reference, )

    def not_read(self):
        """Loader modalities the scene need not give (targets, labels)."""
        return set()

    def check_reference(self, reference, where):
        """Raise when the outputs could not be written on ``reference``'s grid."""


class SegmentationTask(SceneTask):
    name = 'segmentation'
    outputs = SEG_OUTPUTS
    default = ('class', )

    def __init__(self, model, loader, meta):
        super().__init__(model, loader, meta)
        head = getattr(model, 'decode_head', None)
        self.channels = getattr(head, 'num_classes', None)
        classes = meta.get('classes')
        if self.channels is not None and not classes:
            classes = [f'class_{i}' for i in range(self.channels)]
        self.classes = list(classes or [])
        self.palette = meta.get('palette')

    def forward(self, inputs, data_samples, size):
        preds = self.model.predict(inputs, data_samples)
        logits = torch.stack([p.seg_logits.data for p in preds]).float()
        return _resize(logits.softmax(1), size)

    def layers(self, channels, outputs):
        return class_layers(channels, self.classes, outputs)


class ChangeTask(SegmentationTask):
    """Two acquisitions through a Siamese change detector (module docstring)."""
    name = 'change'

    def __init__(self, model, loader, meta):
        SceneTask.__init__(self, model, loader, meta)
        head = model.decode_head
        self.channels = 2
        classes = meta.get('classes')
        self.classes = list(classes) if classes and len(classes) == 2 else [
            'no change', 'change']
        self.palette = meta.get('palette') or [(0, 0, 0), (255, 255, 255)]
        self.sigmoid = bool(getattr(head, 'use_sigmoid', False))
        self.threshold = float(head.threshold) if self.sigmoid else 0.5
        self.keys = tuple(model.keys)
        model.test_cfg['output_logits'] = True  # predict keeps change_logits

    def forward(self, inputs, data_samples, size):
        preds = self.model.predict(inputs, data_samples)
        logits = torch.stack([p.change_logits for p in preds]).float()
        if self.sigmoid:
            p = logits[:, :1].sigmoid()
            probs = torch.cat([1 - p, p], 1)
        else:
            probs = logits.softmax(1)
        return _resize(probs, size)

    def layers(self, channels, outputs):
        # blended probabilities of both classes sum to 1: change where its
        # probability exceeds the threshold (the argmax for a softmax head)
        return class_layers(channels, self.classes, outputs,
                            decide=lambda v, t=self.threshold: v[1] > t)

    def validity_keys(self, reference):
        return self.keys


class ImageTask(SceneTask):
    """The image of an :class:`eofm.ImageToImageModel`, float32 bands."""
    name = 'image'
    outputs = IMAGE_OUTPUTS
    default = ('image', )

    def __init__(self, model, loader, meta):
        super().__init__(model, loader, meta)
        self.target = model.target_key
        self.channels = getattr(model.head, 'out_channels', None)
        mods = (loader or {}).get('modalities') or {}
        self.band_names = list((mods.get(self.target) or {}).get('bands') or [])

    def forward(self, inputs, data_samples, size):
        # the head at the window's size (ImageToImageModel.predict needs the target,
        # which a scene does not have)
        return self.model.head(self.model.extract_feat(inputs), out_size=tuple(size))

    def layers(self, channels, outputs):
        names = self.band_names if len(self.band_names) == channels else None
        return {'image': float_layer(channels, np.float32, names)}

    def not_read(self):
        return {self.target}

    def check_reference(self, reference, where):
        mods = (self.loader or {}).get('modalities') or {}
        ref = (self.loader or {}).get('reference') or next(iter(mods), None)
        if ref is not None and reference != ref:
            raise SceneInferenceError(
                f'{where}: reference {reference!r}: this image-to-image config '
                f'predicts {self.target!r} on the grid of {ref!r} (the reference of '
                f'its LoadMultiModalTiles) and outputs are written on the reference '
                f'grid; set the scene\'s reference to {ref!r}')
        target = mods.get(self.target) or {}
        grid = {k: mods.get(ref, {}).get(k) for k in ('size', 'gsd')}
        if ref is not None and {k: target.get(k) for k in grid} != grid:
            raise SceneInferenceError(
                f'{where}: the config reads the target {self.target!r} with '
                f'{ {k: target.get(k) for k in grid} }, its reference {ref!r} with '
                f'{grid}: outputs on another grid than the reference are not '
                'supported')


class EmbeddingTask(SceneTask):
    """The backbone's last feature map, resized to the window."""
    name = 'embeddings'
    outputs = EMBED_OUTPUTS
    default = ('embeddings', )

    def forward(self, inputs, data_samples, size):
        from eofm.apis.features import model_features
        try:
            feats = model_features(self.model, inputs)
        except TypeError as e:
            raise SceneInferenceError(str(e)) from e
        if feats.dim() != 4:
            raise SceneInferenceError(
                f'embeddings need a (B, D, h, w) feature map, the model gives '
                f'{tuple(feats.shape)}; add a neck that makes one (eofm.TokensToMap)')
        return _resize(feats.float(), size)

    def layers(self, channels, outputs):
        return {'embeddings': float_layer(channels, np.float16)}


def build_task(model, outputs, loader, meta, where):
    """The task of ``model`` for ``outputs`` (None: the model's default layers)."""
    from eofm.models.tasks import ImageToImageModel, SiameseChangeDetector
    outputs = tuple(outputs) if outputs else ()
    if outputs and all(o in EMBED_OUTPUTS for o in outputs):
        task = EmbeddingTask(model, loader, meta)
    elif isinstance(model, SiameseChangeDetector):
        task = ChangeTask(model, loader, meta)
    elif isinstance(model, ImageToImageModel):
        task = ImageTask(model, loader, meta)
    elif getattr(getattr(model, 'decode_head', None), 'num_classes', None) is not None:
        task = SegmentationTask(model, loader, meta)
    else:
        task = EmbeddingTask(model, loader, meta)
    outputs = outputs or task.default
    bad = [o for o in outputs if o not in task.outputs]
    if bad:
        raise SceneInferenceError(
            f'{where}: outputs {list(outputs)}: the model is a {task.name} model '
            f'({type(model).__name__}), which writes {list(task.outputs)}'
            + ('; use outputs=[\'embeddings\'] (a separate run) for its features'
               if task.name != 'embeddings' else ''))
    return task, outputs


# ---------------------------------------------------------------------- the scene
def _one_date(name, side, desc, rng, work):
    """The description of the one acquisition of series ``desc`` inside ``rng``."""
    where = f'scene: change.{side}'
    if not isinstance(rng, dict) or not (rng.get('start') or rng.get('end')):
        raise SceneInferenceError(f"{where} must be dict(start=..., end=...) (a date "
                                  f'range of {name!r}), got {rng!r}')
    start = parse_date(rng['start'], f'{where}.start') if rng.get('start') else None
    end = parse_date(rng['end'], f'{where}.end') if rng.get('end') else None
    dates = [parse_date(d, f'scene: {name}.dates', desc.get('date_format'))
             for d in desc['dates']]
    keep = [k for k, d in enumerate(dates)
            if (start is None or d >= start) and (end is None or d <= end)]
    if len(keep) != 1:
        found = ', '.join(dates[k].isoformat() for k in keep) or 'none'
        raise SceneInferenceError(
            f'{where}: the range {rng.get("start")} .. {rng.get("end")} holds '
            f'{len(keep)} dates of {name!r} ({found}); a change detector compares '
            'one acquisition on each side: give a range with exactly one')
    k = keep[0]
    out = {key: v for key, v in desc.items() if key not in ('paths', 'path', 'dates',
                                                           'date_format')}
    if 'paths' in desc:
        out['path'] = desc['paths'][k]
    else:  # a date-major stack: the date's bands as a VRT in the work folder
        info = raster_info(desc['path'])
        per_date = info.count // len(dates)
        digest = hashlib.sha1(osp.abspath(desc['path']).encode()).hexdigest()[:12]
        vrt = osp.join(work, f'date_{name}_{digest}_{k}.vrt')
        tmp = f'{vrt}.tmp{os.getpid()}.vrt'
        _gdal().Translate(tmp, desc['path'], format='VRT',
                          bandList=[k * per_date + i + 1 for i in range(per_date)])
        os.replace(tmp, vrt)
        out['path'] = vrt
    return out, dates[k]


def change_scene_modalities(modalities, reference, change, keys, work):
    """``modalities`` with the two acquisitions ``keys`` a change detector reads.

    ``change=dict(modality=NAME, pre=RANGE, post=RANGE)`` takes them from one series
    (``pre`` / ``post`` are the first / second of ``keys``, as the model names
    them); without ``change`` the scene must hold both ``keys`` as modalities.
    Returns (modalities, reference).
    """
    if change is None:
        missing = [k for k in keys if k not in modalities]
        if missing:
            raise SceneInferenceError(
                f'scene: the change detector compares the modalities {list(keys)} '
                f'(its keys); the scene lacks {missing} (it has '
                f'{sorted(modalities)}). Give both acquisitions as modalities of '
                'those names, or two date ranges of one series: change=dict('
                f"modality=..., {keys[0]}=dict(start=..., end=...), "
                f'{keys[1]}=dict(start=..., end=...))')
        return modalities, reference or keys[0]
    if not isinstance(change, dict):
        raise SceneInferenceError(f'scene: change must be a dict, got {change!r}')
    name = change.get('modality')
    if name not in modalities:
        raise SceneInferenceError(f'scene: change.modality {name!r} is not one of the '
                                  f'modalities {sorted(modalities)}')
    desc = modalities[name]
    if not desc.get('dates'):
        raise SceneInferenceError(f'scene: change.modality {name!r} has no dates: a '
                                  'series (paths or a stack with dates) is needed')
    missing = [k for k in keys if k not in change]
    if missing:
        raise SceneInferenceError(f'scene: change lacks {missing}: the change detector '
                                  f'compares {list(keys)}, give a date range for each')
    clash = [k for k in keys if k in modalities]
    if clash:
        raise SceneInferenceError(f'scene: modalities {clash} are given both as files '
                                  'and as change date ranges')
    (a, da), (b, db) = (_one_date(name, k, desc, change[k], work) for k in keys)
    if not da < db:
        raise SceneInferenceError(
            f'scene: change.{keys[0]} ({da}) must be earlier than change.{keys[1]} '
            f'({db})')
    out = {m: d for m, d in modalities.items() if m != name}
    out[keys[0]], out[keys[1]] = a, b
    if reference in (None, name):
        reference = keys[0]
    return out, reference
