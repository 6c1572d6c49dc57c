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
  with any model);
* :class:`DetectionTask` (mmdet detectors, mmrotate's oriented detectors, every
  model whose ``predict`` fills ``pred_instances`` with ``bboxes`` / ``scores`` /
  ``labels``): boxes, written as polygons of a GeoPackage (see the class).

Detection configs of the host libraries read one image file
(``LoadImageFromFile``); scene inference reads the window of the scene modality
``img`` (:data:`IMAGE_FILE_KEY`) instead, gives a 3-band window in the loader's
blue-green-red order (the reverse of the raster's band order: store R, G, B) with
the values as stored, and the rest of such a pipeline (resizing, annotations,
packing) is left out: the detector sees the window at the reference's pixel size.

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
           'DET_OUTPUTS', 'IMAGE_FILE_KEY', 'build_task', 'SegmentationTask',
           'ChangeTask', 'ImageTask', 'EmbeddingTask', 'DetectionTask',
           'change_scene_modalities', 'image_file_pipeline', 'core_boxes',
           'suppress_boxes', 'box_polygons', 'dataset_metainfo']

SEG_OUTPUTS = ('class', 'probs', 'confidence')
EMBED_OUTPUTS = ('embeddings', )
IMAGE_OUTPUTS = ('image', )
DET_OUTPUTS = ('boxes', )
ALL_OUTPUTS = SEG_OUTPUTS + EMBED_OUTPUTS + IMAGE_OUTPUTS + DET_OUTPUTS
#: The scene modality that an image-file test pipeline (``LoadImageFromFile``) reads.
IMAGE_FILE_KEY = 'img'
#: Loaders of one image file (mmcv / mmdet), replaced by :func:`image_file_pipeline`.
IMAGE_FILE_LOADERS = ('LoadImageFromFile', )
NODATA_CLASS = {np.uint8: 255, np.uint16: 65535}


class SceneInferenceError(ValueError):
    """The scene, the options or the output folder cannot be used as given."""


def _gdal():
    from osgeo import gdal
    gdal.UseExceptions()
    return gdal


def _unpadded(meta):
    """Whether a window's meta describes an unpadded, unflipped image (then mmseg's
    ``postprocess_result`` leaves its logits as they are)."""
    pad = meta.get('img_padding_size', meta.get('padding_size'))
    if pad is not None and any(pad) or meta.get('flip'):
        return False
    shapes = {tuple(meta[k])[:2] for k in ('img_shape', 'ori_shape', 'pad_shape')
              if k in meta}
    return len(shapes) <= 1


def _binary(p):
    """(B, 1, h, w) probabilities of class 1 -> (B, 2, h, w) of both classes."""
    return torch.cat([1 - p, p], 1)


def _resize(x, size):
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode='bilinear', align_corners=False)


# ---------------------------------------------------------------------- layers
def argmax0(v):
    """``v.argmax(0)`` of a (C, h, w) array (the first of equal maxima), one
    vectorised pass per channel: numpy's argmax over the leading axis of a
    channel-first block walks it with a stride of h * w and is several times
    slower."""
    if v.shape[0] > 256:  # many classes: the passes would cost more
        return v.argmax(0)
    best = v[0].copy()
    idx = np.zeros(v.shape[1:], np.int32)
    for c in range(1, v.shape[0]):
        better = v[c] > best
        idx[better] = c
        np.maximum(best, v[c], out=best)
    return idx


def class_layers(n, class_names, outputs, decide=None):
    """Specs of the segmentation layers of ``n`` blended class probabilities.

    ``decide(v) -> (h, w) class ids`` defaults to the argmax over the classes.
    """
    gdal = _gdal()
    cls_dtype = np.uint8 if n <= 255 else np.uint16
    nd = NODATA_CLASS[cls_dtype]
    decide = decide or argmax0

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
        classes (list[str]): Class names (segmentation, change and detection).
        vector (bool): The outputs are vector features, not blended rasters: each
            window runs once, for the block that holds its core, and gives
            :meth:`forward`'s features instead of per-pixel values.
        image_file (bool): The config's test pipeline reads one image file
            (``LoadImageFromFile``): windows are given to the model's own data
            preprocessor as such images (module docstring).
    """
    name = ''
    outputs = ()
    default = ()
    vector = False

    def __init__(self, model, loader, meta):
        self.model = model
        self.loader = loader  # the LoadMultiModalTiles config of the test pipeline
        self.meta = meta
        self.channels = None
        self.classes = []
        self.palette = None
        self.image_file = False

    def configure(self, nms_iou=None, score_thr=None, tta=None, feature=None):
        """Check the inferencer's options for this task; returns the settings it
        adds to the manifest (the detection options and the embeddings' feature
        name, which other tasks refuse)."""
        if feature is not None:
            raise SceneInferenceError(
                f'feature={feature!r}: names the map of an embeddings run '
                "(outputs=['embeddings']); the run writes the model's "
                f'{self.name} layers')
        given = [k for k, v in (('nms_iou', nms_iou), ('score_thr', score_thr))
                 if v is not None]
        if given:
            raise SceneInferenceError(
                f'{", ".join(given)}: options of detection models (boxes); the model '
                f'is a {self.name} model')
        return {}

    def preprocess(self, data):
        """The collated windows through the model's data preprocessor."""
        if self.image_file:
            data = _image_file_batch(data, self.image_samples)
        return self.model.data_preprocessor(data, False)

    def image_samples(self, samples, shapes):
        """The data samples of windows from an image-file pipeline (None: none)."""
        return None

    def forward(self, inputs, data_samples, size):
        """(B, C, h, w) float outputs on the window grid ``size`` (h, w); for a
        :attr:`vector` task, one dict of numpy arrays per window."""
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
        self.threshold = None
        if getattr(head, 'out_channels', None) == 1 and self.channels == 2:
            self.threshold = float(head.threshold)

    def forward(self, inputs, data_samples, size):
        return _resize(self._probs(inputs, data_samples), size)

    def _probs(self, inputs, data_samples):
        """(B, C, h, w) class probabilities of the windows.

        mmseg's ``predict`` ends in ``postprocess_result``, which crops padding,
        undoes flips, resizes to ``ori_shape`` and takes an argmax per window. The
        inferencer blends probabilities and takes one argmax per block, so the
        per-window argmax is wasted (a channel-first argmax over 4 x 512 x 512
        costs more than the forward of a small model): when the windows carry no
        padding and no flip, the logits come from ``inference`` directly, which
        is what ``postprocess_result`` would keep (its resize to an equal size
        is the identity); otherwise through ``predict``. A binary head with one
        output channel (sigmoid) gives the probabilities of both classes.
        """
        model = self.model
        metas = [s.metainfo for s in data_samples] if data_samples else None
        if metas and hasattr(model, 'inference') and all(
                _unpadded(m) for m in metas):
            logits = model.inference(inputs, metas).float()
            if logits.shape[1] == 1:
                return _binary(logits.sigmoid())
            return logits.softmax(1)
        preds = model.predict(inputs, data_samples)
        x = torch.stack([p.seg_logits.data for p in preds]).float()
        # postprocess_result has already applied the sigmoid of a binary head
        return _binary(x) if x.shape[1] == 1 else x.softmax(1)

    def layers(self, channels, outputs):
        decide = None
        if self.threshold is not None:  # mmseg's rule for a one-channel head
            decide = lambda v, t=self.threshold: v[1] > t  # noqa: E731
        return class_layers(channels, self.classes, outputs, decide=decide)


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
    """The backbone's last feature map, or the map named ``feature`` (see
    :func:`eofm.apis.features.model_features`: the same features the probe tool's
    ``--feature`` reads), resized to the window."""
    name = 'embeddings'
    outputs = EMBED_OUTPUTS
    default = ('embeddings', )
    feature = None

    def configure(self, nms_iou=None, score_thr=None, tta=None, feature=None):
        out = super().configure(nms_iou=nms_iou, score_thr=score_thr, tta=tta)
        if feature is None:
            return out
        if not hasattr(self.model, 'named_features'):
            raise SceneInferenceError(
                f'feature={feature!r}: {type(self.model).__name__} has no '
                'named_features(inputs); leave the feature out for its default '
                'embeddings')
        self.feature = feature
        return dict(out, feature=feature)

    def forward(self, inputs, data_samples, size):
        from eofm.apis.features import model_features
        try:
            feats = model_features(self.model, inputs, self.feature)
        except TypeError as e:
            raise SceneInferenceError(str(e)) from e
        if feats.dim() != 4:
            raise SceneInferenceError(
                f'embeddings need a (B, D, h, w) feature map, the model gives '
                f'{tuple(feats.shape)}; add a neck that makes one (eofm.TokensToMap)')
        return _resize(feats.float(), size)

    def layers(self, channels, outputs):
        return {'embeddings': float_layer(channels, np.float16)}


class DetectionTask(SceneTask):
    """Boxes of a detector, written as the polygons of a GeoPackage.

    ``predict`` must fill ``pred_instances`` with ``bboxes`` ((N, 4) x1, y1, x2, y2
    or (N, 5) rotated cx, cy, w, h, angle in radians, in window pixels), ``scores``
    and ``labels``. Sliced inference reports an object cut by a window border once:

    * a window's boxes are shifted to scene pixels and kept only when their centre
      lies in the window's *core* (the cores partition the scene,
      :func:`eofm.apis.scene_inference.core_bounds`); each window runs once, for
      the block that holds its core;
    * the boxes kept in all windows then go through a class-wise NMS
      (:func:`suppress_boxes`, IoU ``nms_iou``; default the model's
      ``test_cfg`` NMS threshold, else 0.5), after an optional ``score_thr``.

    With an overlap at least the size of the largest object, every object lies
    whole in the window whose core holds its centre, and the part of it that a
    neighbouring window sees (a box clipped at that window's edge) has its centre
    beyond the neighbour's core: each object is reported exactly once, by one
    window, and the NMS only removes the duplicates of larger objects.

    Output ``'boxes'``: ``boxes.gpkg``, layer ``boxes`` of polygons in the
    reference CRS (the box corners through the reference's geotransform; rotated
    boxes as their four corners) with the fields ``class`` (the config's class
    names), ``class_id`` and ``score``, sorted by score (descending), then by the
    coordinates.
    """
    name = 'detection'
    outputs = DET_OUTPUTS
    default = ('boxes', )
    vector = True
    LAYER = 'boxes'

    def __init__(self, model, loader, meta):
        super().__init__(model, loader, meta)
        roi = getattr(model, 'roi_head', None)
        head = getattr(roi, 'bbox_head', None) or getattr(model, 'bbox_head', None)
        n = getattr(head, 'num_classes', None)
        classes = meta.get('classes')
        if n is not None and not classes:
            classes = [f'class_{i}' for i in range(n)]
        self.classes = list(classes or [])
        self.channels = len(self.classes) or None
        self.palette = meta.get('palette')
        self.nms_iou, self.score_thr = self._model_iou(), None
        # (N, 5) boxes, known from mmrotate's heads (for a run without any box)
        self.box_dim = 5 if getattr(head, 'predict_box_type', None) == 'rbox' else 4

    def _model_iou(self):
        """The NMS IoU of the model's ``test_cfg`` (``rcnn.nms`` of two-stage
        detectors, ``nms`` of single-stage ones), else 0.5."""
        cfg = getattr(self.model, 'test_cfg', None) or {}
        for node in (cfg.get('rcnn') or {}, cfg):
            nms = node.get('nms') if hasattr(node, 'get') else None
            if hasattr(nms, 'get') and nms.get('iou_threshold') is not None:
                return float(nms['iou_threshold'])
        return 0.5

    def configure(self, nms_iou=None, score_thr=None, tta=None, feature=None):
        super().configure(feature=feature)  # refuses a feature name
        if tta is not None:
            raise SceneInferenceError(
                f'tta={tta!r}: test-time flips average per-pixel outputs; a '
                'detection model writes boxes (give tta=None)')
        if nms_iou is not None:
            if not 0 < float(nms_iou) <= 1:
                raise SceneInferenceError(f'nms_iou must be in (0, 1], got {nms_iou}')
            self.nms_iou = float(nms_iou)
        if score_thr is not None:
            if not 0 <= float(score_thr) < 1:
                raise SceneInferenceError(
                    f'score_thr must be in [0, 1), got {score_thr}')
            self.score_thr = float(score_thr)
        return dict(nms_iou=self.nms_iou, score_thr=self.score_thr)

    def image_samples(self, samples, shapes):
        from mmdet.structures import DetDataSample
        out = []
        for s, (h, w) in zip(samples, shapes):
            meta = dict(s.metainfo) if hasattr(s, 'metainfo') else {}
            out.append(DetDataSample(metainfo=dict(
                img_id=meta.get('sample_id'), img_shape=(h, w), ori_shape=(h, w),
                scale_factor=(1.0, 1.0))))
        return out

    def forward(self, inputs, data_samples, size):
        """One dict per window: ``boxes`` (N, 4 | 5) float64 in window pixels,
        ``scores`` (N,) float64, ``labels`` (N,) int64."""
        preds = self.model.predict(inputs, data_samples)
        out = []
        for p in preds:
            inst = getattr(p, 'pred_instances', None)
            if inst is None or not all(k in inst for k in ('bboxes', 'scores',
                                                           'labels')):
                raise SceneInferenceError(
                    f'outputs boxes: {type(self.model).__name__}.predict must fill '
                    'pred_instances with bboxes, scores and labels')
            boxes = getattr(inst.bboxes, 'tensor', inst.bboxes)  # mmdet's box types
            boxes = boxes.detach().float().cpu().numpy().astype(np.float64)
            if boxes.ndim != 2 or boxes.shape[1] not in (4, 5):
                raise SceneInferenceError(
                    'outputs boxes: pred_instances.bboxes must be (N, 4) x1, y1, x2, '
                    f'y2 or (N, 5) cx, cy, w, h, angle boxes, got {boxes.shape}')
            out.append(dict(
                boxes=boxes,
                scores=inst.scores.detach().float().cpu().numpy().astype(np.float64),
                labels=inst.labels.detach().cpu().numpy().astype(np.int64)))
        return out

    def keep(self, found, offset, core):
        """The boxes of one window (:meth:`forward`) in scene pixels (``offset``
        (x, y) of the window) whose centre lies in ``core`` ((y0, y1, x0, x1),
        half-open; infinite at the scene's borders) and whose score passes."""
        boxes = shift_boxes(found['boxes'], offset)
        keep = core_boxes(boxes, core)
        if self.score_thr is not None:
            keep &= found['scores'] >= self.score_thr
        return dict(boxes=boxes[keep], scores=found['scores'][keep],
                    labels=found['labels'][keep])

    @staticmethod
    def merge(parts):
        """One array each of the boxes of ``parts`` (a block's windows)."""
        parts = [p for p in parts if len(p['scores'])]
        if not parts:
            return dict(boxes=np.zeros((0, 0)), scores=np.zeros(0),
                        labels=np.zeros(0, np.int64))
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def write(self, out_dir, work, blocks, grid):
        """``boxes.gpkg`` of the boxes saved in the files ``blocks``; returns the
        manifest's ``files``."""
        merged = self.merge([dict(np.load(p)) for p in blocks])
        if not len(merged['scores']):
            merged['boxes'] = np.zeros((0, self.box_dim))
        boxes, scores, labels = suppress_boxes(merged['boxes'], merged['scores'],
                                               merged['labels'], self.nms_iou)
        order = np.lexsort(tuple(boxes[:, k] for k in range(boxes.shape[1] - 1, -1, -1))
                           + (labels, -scores)) if len(scores) else np.zeros(0, int)
        boxes, scores, labels = boxes[order], scores[order], labels[order]
        names = [self.classes[c] if 0 <= c < len(self.classes) else f'class_{c}'
                 for c in labels]
        path = osp.join(out_dir, 'boxes.gpkg')
        tmp = osp.join(work, f'boxes.tmp{os.getpid()}.gpkg')
        write_polygons(tmp, self.LAYER, box_polygons(boxes, grid.geotransform),
                       {'class': (str, names), 'class_id': (int, labels.tolist()),
                        'score': (float, scores.tolist())}, grid.crs)
        os.replace(tmp, path)
        return {'boxes': dict(path='boxes.gpkg', layer=self.LAYER, driver='GPKG',
                              count=int(len(scores)), geometry='Polygon',
                              box_type='rotated' if boxes.shape[1] == 5 else
                              'horizontal', fields=['class', 'class_id', 'score'])}


def shift_boxes(boxes, offset):
    """``boxes`` (N, 4 | 5) moved by ``offset`` (x, y) pixels (a copy)."""
    boxes = np.array(boxes, np.float64, copy=True)
    cols = (0, 1, 2, 3) if boxes.shape[1] == 4 else (0, 1)
    for c in cols:
        boxes[:, c] += offset[c % 2]
    return boxes


def box_centres(boxes):
    """(N, 2) centres (x, y) of (N, 4) x1, y1, x2, y2 or (N, 5) rotated boxes."""
    if boxes.shape[1] == 4:
        return np.stack([(boxes[:, 0] + boxes[:, 2]) / 2,
                         (boxes[:, 1] + boxes[:, 3]) / 2], 1)
    return boxes[:, :2]


def core_boxes(boxes, core):
    """(N,) bool: the centre lies in ``core`` (y0, y1, x0, x1), half-open."""
    if not len(boxes):
        return np.zeros(0, bool)
    y0, y1, x0, x1 = core
    c = box_centres(boxes)
    return (c[:, 0] >= x0) & (c[:, 0] < x1) & (c[:, 1] >= y0) & (c[:, 1] < y1)


def suppress_boxes(boxes, scores, labels, iou):
    """Class-wise NMS at IoU ``iou``: :func:`mmcv.ops.nms` for (N, 4) boxes,
    :func:`mmcv.ops.nms_rotated` for (N, 5) ones. One class at a time, in
    coordinates relative to that class's boxes (float32 keeps sub-pixel precision
    over any scene); returns the kept (boxes, scores, labels)."""
    from mmcv.ops import nms, nms_rotated
    if not len(scores):
        return boxes, scores, labels
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        b = boxes[idx].copy()
        shift = box_centres(b).min(0)
        b = shift_boxes(b, -shift)
        op = nms if b.shape[1] == 4 else nms_rotated
        _, k = op(torch.from_numpy(b).float(), torch.from_numpy(scores[idx]).float(),
                  float(iou))
        keep.append(idx[k.numpy()])
    keep = np.sort(np.concatenate(keep))
    return boxes[keep], scores[keep], labels[keep]


def box_polygons(boxes, geotransform):
    """(N, 4, 2) map coordinates of the corners of ``boxes`` (scene pixels)."""
    if boxes.shape[1] == 4:
        x1, y1, x2, y2 = boxes.T
        xs = np.stack([x1, x2, x2, x1], 1)
        ys = np.stack([y1, y1, y2, y2], 1)
    else:  # rotated: cx, cy, w, h, angle (radians), as mmrotate's rbox2qbox
        cx, cy, w, h, a = boxes.T
        dx = np.array([-0.5, 0.5, 0.5, -0.5])[None] * w[:, None]
        dy = np.array([-0.5, -0.5, 0.5, 0.5])[None] * h[:, None]
        cos, sin = np.cos(a)[:, None], np.sin(a)[:, None]
        xs = cx[:, None] + dx * cos - dy * sin
        ys = cy[:, None] + dx * sin + dy * cos
    g = geotransform
    return np.stack([g[0] + xs * g[1] + ys * g[2], g[3] + xs * g[4] + ys * g[5]], -1)


def write_polygons(path, layer, polygons, fields, crs_wkt):
    """A GeoPackage at ``path``: layer ``layer`` of the (N, k, 2) ``polygons`` in
    ``crs_wkt`` with ``fields`` (name -> (str | int | float, N values)). Written
    with a fixed timestamp, so that the same features give the same bytes."""
    from osgeo import gdal, ogr, osr
    gdal.UseExceptions()
    if osp.exists(path):
        os.remove(path)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(crs_wkt)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    kinds = {str: ogr.OFTString, int: ogr.OFTInteger, float: ogr.OFTReal}
    old = gdal.GetConfigOption('OGR_CURRENT_DATE')
    gdal.SetConfigOption('OGR_CURRENT_DATE', '2000-01-01T00:00:00.000Z')
    try:
        ds = ogr.GetDriverByName('GPKG').CreateDataSource(path)
        lyr = ds.CreateLayer(layer, srs, ogr.wkbPolygon)
        for k, (kind, _) in fields.items():
            lyr.CreateField(ogr.FieldDefn(k, kinds[kind]))
        defn = lyr.GetLayerDefn()
        lyr.StartTransaction()
        for n, poly in enumerate(polygons):
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in list(poly) + [poly[0]]:
                ring.AddPoint_2D(float(x), float(y))
            geom = ogr.Geometry(ogr.wkbPolygon)
            geom.AddGeometry(ring)
            feat = ogr.Feature(defn)
            feat.SetGeometry(geom)
            for k, (_, values) in fields.items():
                feat.SetField(k, values[n])
            lyr.CreateFeature(feat)
        lyr.CommitTransaction()
        ds = None
    finally:
        gdal.SetConfigOption('OGR_CURRENT_DATE', old)


def image_file_pipeline(load):
    """The window loading that replaces a test pipeline reading one image file
    (``load``: its ``LoadImageFromFile``): the scene modality :data:`IMAGE_FILE_KEY`
    read as stored, packed as eofm's inputs (module docstring)."""
    if (load.get('color_type') or 'color') != 'color':
        raise SceneInferenceError(
            f"the test pipeline's {load.get('type')} reads color_type="
            f"{load.get('color_type')!r}; scene inference gives a 3-band window "
            "(color_type='color')")
    return [
        dict(type='eofm.LoadMultiModalTiles', modalities={IMAGE_FILE_KEY: dict()},
             reference=IMAGE_FILE_KEY, label_maps={}, missing='skip'),
        dict(type='eofm.PackMultiModalInputs', modalities=[IMAGE_FILE_KEY]),
    ]


def _image_file_batch(data, make_samples):
    """Collated eofm windows as the batch of an image-file pipeline: (C, H, W)
    images, 3 bands in blue-green-red order (the reverse of the raster's), and
    ``make_samples(samples, shapes)``'s data samples."""
    images = []
    for k, inputs in enumerate(data['inputs']):
        img = inputs[IMAGE_FILE_KEY]
        if img.dim() != 3 or img.shape[0] != 3:
            raise SceneInferenceError(
                f'scene: modality {IMAGE_FILE_KEY!r}: the config reads 3-band '
                f'images (LoadImageFromFile), the window has shape '
                f'{tuple(img.shape)}; give a raster (or VRT) of the R, G, B bands')
        images.append(img.flip(0))
    shapes = [tuple(i.shape[-2:]) for i in images]
    return dict(inputs=images, data_samples=make_samples(data['data_samples'], shapes))


def dataset_metainfo(dataset, scope):
    """The ``metainfo`` of a dataset config, else its registered class's ``METAINFO``
    (the class names of a host library's dataset, e.g. DIOR's), looked up in
    ``scope``; {} when neither gives one."""
    meta = dict(dataset.get('metainfo') or {})
    if meta.get('classes') or not isinstance(dataset.get('type'), str):
        return meta
    from mmengine.registry import DATASETS
    try:
        with DATASETS.switch_scope_and_registry(scope) as registry:
            cls = registry.get(dataset['type'])
    except (KeyError, ImportError):
        cls = None
    return dict(getattr(cls, 'METAINFO', None) or {}, **meta)


def _is_detector(model):
    try:
        from mmdet.models.detectors import BaseDetector
    except ImportError:  # pragma: no cover - mmdet is a dependency of eofm
        return False
    return isinstance(model, BaseDetector)


def build_task(model, outputs, loader, meta, where, image_file=False):
    """The task of ``model`` for ``outputs`` (None: the model's default layers).

    ``image_file``: the test pipeline reads one image file (``LoadImageFromFile``),
    which detectors and embeddings support.
    """
    from eofm.models.tasks import ImageToImageModel, SiameseChangeDetector
    outputs = tuple(outputs) if outputs else ()
    if outputs and all(o in EMBED_OUTPUTS for o in outputs):
        task = EmbeddingTask(model, loader, meta)
    elif _is_detector(model) or (outputs and all(o in DET_OUTPUTS for o in outputs)):
        task = DetectionTask(model, loader, meta)
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
    if image_file and task.name not in ('detection', 'embeddings'):
        raise SceneInferenceError(
            f'{where}: the test pipeline reads one image file (LoadImageFromFile), '
            f'which scene inference supports for detectors and embeddings; a '
            f'{task.name} config needs eofm.LoadMultiModalTiles')
    task.image_file = bool(image_file)
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
