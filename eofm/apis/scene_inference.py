"""Scene inference: run a trained eofm model over whole geo-referenced scenes.

A *scene* is described like one sample of eofm's annotation files (one entry per
modality: a GeoTIFF / VRT / any GDAL raster, a date-major stack, one file per date
with its dates, one file per band), plus the ``reference`` modality whose grid the
outputs use, an optional area of interest (``aoi``: bounds in the reference CRS) and
an optional date range (``dates=dict(start=..., end=...)``)::

    scene = dict(
        reference='s2',
        modalities=dict(
            s2=dict(paths=['s2/20210105.tif', ...], dates=['2021-01-05', ...],
                    bands=['B2', ..., 'B12']),
            s1=dict(path='s1/stack.tif', dates=[...], bands=['VV', 'VH'])),
        aoi=(500000, 4990000, 520000, 5010000),
        dates=dict(start='2021-03-01', end='2021-10-31'))

A modality in another CRS than the reference is warped on the fly (a GDAL VRT in the
work folder, resampling ``resample``). The scene is cut into windows of ``tile``
reference pixels overlapping by ``overlap``; each window goes through the config's
own test pipeline (:class:`eofm.LoadMultiModalTiles` with the window, temporal
sampling, band transforms, packing; crops, flips and resizes are left out) and the
model's data preprocessor, so a window gets exactly the inputs ``tools/test.py``
would give that footprint.

Window outputs (class probabilities of a segmentor or a change detector, the image
of an image-to-image model, or the backbone's embeddings) are blended with a 2-D
cosine-squared window (``blend='cosine'``; ``'none'`` keeps, for each pixel, the
window whose centre is nearest) and normalised by the summed weights, so windows at
the scene border are not darkened. The scene is processed in blocks of windows: a
block's accumulators are the only per-pixel arrays in memory, and a finished block
(the weighted sums of its windows, reaching into the neighbouring blocks where the
windows do) is saved atomically in the work folder with a journal entry, so a killed
run continues with ``resume=True`` where it stopped; each window runs once, and
processes of a distributed run take disjoint blocks. At the end the blocks are assembled into Cloud-Optimized GeoTIFFs
on the reference grid (CRS, geotransform, nodata, internal tiling, overviews),
described by ``manifest.json`` (with the ``task``).

The windows are cut on the reference's grid, so the reference must be a modality
the config's ``LoadMultiModalTiles`` reads (it becomes that loader's reference), and
every modality the loader requires must be in the scene. What a model gives and
writes is its task (:mod:`eofm.apis.scene_tasks`); ``outputs=None`` writes the
task's default layer. Outputs (``outputs=``):

* ``'class'``: the class map (uint8, uint16 beyond 255 classes) with a colour table
  and the class names (band metadata ``CLASS_{i}``, and the manifest); ``'probs'``:
  per-class probabilities (uint8, 0-254, nodata 255); ``'confidence'``: the top
  probability (uint8, 0-254) (segmentation models, mmseg's ``EncoderDecoder`` and
  every model whose ``predict`` fills ``seg_logits``);
* change detection (:class:`eofm.SiameseChangeDetector`, BIT / U-Net heads): the same
  three layers with the classes 'no change' / 'change' (a sigmoid head's change
  probability thresholded at its ``threshold``). The two acquisitions are the
  modalities named by the model's ``keys`` (``pre`` / ``post``), or two date ranges
  of one series: ``change=dict(modality='s2', pre=dict(start=..., end=...),
  post=dict(start=..., end=...))``, each holding one date; the reference is then
  the earlier acquisition; pixels invalid in either are nodata;
* ``'image'``: the image of an :class:`eofm.ImageToImageModel` (cloud removal,
  pan-sharpening), float32, one band per predicted band (named as the config's
  target bands), nodata NaN. It is written on the reference grid, which must be
  the grid the config predicts on: its ``LoadMultiModalTiles`` reference (the
  panchromatic image for pan-sharpening), else an error;
* ``'embeddings'``: the last feature map of the backbone (``extract_feat``, or the
  model itself for a bare backbone config), float16, one band per channel, with an
  RGB preview (``embeddings_preview.png``) of its first three principal components;
* ``'boxes'``: the objects of a detector (mmdet's Faster R-CNN, mmrotate's Oriented
  R-CNN, every model whose ``predict`` fills ``pred_instances``) as the polygons of
  ``boxes.gpkg`` (GeoPackage layer ``boxes`` in the reference CRS, fields
  ``class``, ``class_id``, ``score``; rotated boxes as their four corners). A
  window's boxes count when their centre lies in its core (the cores partition
  the scene, as for ``blend='none'``), then a class-wise NMS (``nms_iou``, default
  the model's ``test_cfg``) removes what remains twice: with an overlap at least
  the largest object's size, each object is reported once
  (:class:`eofm.apis.scene_tasks.DetectionTask`). ``blend`` does not apply, and
  each window runs once. A detection config that reads one image file
  (``LoadImageFromFile``, as eofm's DIOR configs) reads the scene modality
  ``img`` instead: three bands R, G, B, values as the model was trained on.

Pixels without a valid input (every date of the reference modality nodata) and
windows whose reference pixels are all nodata (skipped) are nodata in the outputs.
Runs are deterministic: the same inputs, settings and thread count give
byte-identical files, also after an interruption and resume, and with any number of
processes (set ``num_threads`` for the last, as thread counts change float sums).
"""
import copy
import hashlib
import json
import math
import os
import os.path as osp
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from eofm.datasets import leaf_dataset_cfgs
from eofm.datasets.geo_io import (RasterReadError, native_resolution, open_raster,
                                  parse_date, raster_info, transform_bounds)
from eofm.utils.benchmark import peak_rss_bytes
from eofm.utils.checkpoint import atomic_write_bytes, sha256_file
from eofm.utils.palette import distinct_palette
from eofm.utils.precision import autocast
from .scene_tasks import (ALL_OUTPUTS, EMBED_OUTPUTS, IMAGE_FILE_LOADERS,  # noqa: F401
                          SEG_OUTPUTS, SceneInferenceError, build_task,
                          change_scene_modalities, dataset_metainfo,
                          image_file_pipeline)

__all__ = ['SceneInferencer', 'window_starts', 'core_bounds', 'blend_weights',
           'SceneInferenceError']

#: Test-pipeline transforms that change the geometry of a window: left out.
GEOMETRY_TRANSFORMS = ('AlignedRandomCrop', 'AlignedCenterCrop', 'AlignedRandomResizedCrop',
                       'AlignedRandomFlip', 'AlignedRandomRot90', 'MultiModalMultiView',
                       'RandomCrop', 'RandomFlip', 'Resize', 'RandomResize')
#: Test-pipeline transforms of the labels (a scene has none): left out, with the
#: modality that some of them read (``key``).
LABEL_TRANSFORMS = ('RemapLabelMap', 'OneHotToSegMap', 'SegMapToMultiLabel',
                    'RGBLabelToIndex')
WORK = '.work'
#: Version of the work folder's block files (a resume needs the same).
BLOCK_LAYOUT = 3


# ---------------------------------------------------------------------- tiling
def window_starts(length: int, tile: int, overlap: int):
    """Window offsets along one axis: a stride of ``tile - overlap``, the last window
    aligned to the end (a scene shorter than ``tile`` is one window)."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile + 1, stride))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def core_bounds(starts: Sequence[int], tile: int, length: int):
    """Boundaries ``b`` with window ``k``'s core ``[b[k], b[k + 1])``: the pixels
    nearest to that window's centre (midpoints of the overlaps)."""
    tile = min(tile, length)
    mids = [(starts[k] + tile + starts[k + 1]) // 2 for k in range(len(starts) - 1)]
    return [0] + mids + [length]


def blend_weights(h: int, w: int, mode: str = 'cosine', margins=(0, 0, 0, 0)):
    """(h, w) weights of one window.

    ``'cosine'``: cosine-squared (Hann) in both axes over the window without its
    ``margins`` (top, bottom, left, right; there the weight is 0, so the pixels a
    model sees near a window edge, where its padding shows, never count), floored
    so that every other pixel has weight. ``'none'``: ones (the cores decide).
    """
    if mode == 'none':
        return np.ones((h, w), np.float32)

    def axis(n, lo, hi):
        out = np.zeros(n, np.float64)
        m = n - lo - hi
        out[lo:n - hi] = np.maximum(np.sin(np.pi * (np.arange(m) + 0.5) / m)**2, 1e-6)
        return out

    t, b, l, r = margins
    return np.outer(axis(h, t, b), axis(w, l, r)).astype(np.float32)


# ---------------------------------------------------------------------- helpers
def _atomic_json(obj, path):
    atomic_write_bytes(json.dumps(obj, indent=1, sort_keys=True).encode(), path)


def _atomic_npz(path, **arrays):
    tmp = f'{path}.tmp{os.getpid()}.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _write_quicklook(out_dir, files, max_side=1024):
    """``class.png``: the class map in its palette, at most ``max_side`` px a side
    (read through the COG's overviews), to look at without a GIS; its file name, or
    None when no class map was written."""
    from osgeo import gdal
    entry = files.get('class')
    if not entry:
        return None
    src = osp.join(out_dir, entry['path'])
    info = raster_info(src)
    f = min(1.0, max_side / max(info.width, info.height))
    dst = osp.join(out_dir, 'class.png')
    tmp = f'{dst}.tmp{os.getpid()}.png'
    ds = gdal.Translate(tmp, src, format='PNG', rgbExpand='rgba',
                        width=max(1, int(round(info.width * f))),
                        height=max(1, int(round(info.height * f))),
                        resampleAlg='nearest')
    ds = None
    if osp.exists(f'{tmp}.aux.xml'):  # GDAL's side file of the temporary name
        os.remove(f'{tmp}.aux.xml')
    os.replace(tmp, dst)
    return 'class.png'


def _palette(n, given=None):
    if given is not None and len(given) >= n:
        return [tuple(int(v) for v in c[:3]) for c in given[:n]]
    return distinct_palette(n)


def _peak_rss_mib():
    return peak_rss_bytes() / 2**20


class _Grid:
    """The output grid: the reference raster's pixels inside the area of interest."""

    def __init__(self, info, aoi=None, where='scene'):
        self.info = info
        x0, dx, _, y0, _, dy = info.geotransform
        if aoi is None:
            self.x_off, self.y_off, self.width, self.height = 0, 0, info.width, info.height
        else:
            xmin, ymin, xmax, ymax = [float(v) for v in aoi]
            b = info.bounds
            if xmin >= b[2] or xmax <= b[0] or ymin >= b[3] or ymax <= b[1]:
                raise SceneInferenceError(
                    f'{where}: aoi {tuple(aoi)} does not overlap the reference raster '
                    f'{info.path} (bounds {tuple(round(v, 3) for v in b)})')
            c0 = int(math.floor((max(xmin, b[0]) - x0) / dx + 1e-9))
            c1 = int(math.ceil((min(xmax, b[2]) - x0) / dx - 1e-9))
            r0 = int(math.floor((min(ymax, b[3]) - y0) / dy + 1e-9))
            r1 = int(math.ceil((max(ymin, b[1]) - y0) / dy - 1e-9))
            self.x_off, self.y_off = max(c0, 0), max(r0, 0)
            self.width = min(c1, info.width) - self.x_off
            self.height = min(r1, info.height) - self.y_off
        self.geotransform = (x0 + dx * self.x_off, dx, 0.0, y0 + dy * self.y_off, 0.0, dy)
        self.crs = info.crs_wkt


# ---------------------------------------------------------------------- the model
class _ModelRunner:
    """The model of a config, its test pipeline and what one batch of windows gives."""

    def __init__(self, config, checkpoint, device, cfg_options, outputs,
                 precision='fp32'):
        from mmengine.dataset import Compose
        from mmengine.registry import MODELS, DefaultScope

        from eofm.apis.runner_setup import load_config
        cfg = load_config(config, cfg_options) if isinstance(config, str) else config
        self.cfg = cfg
        self.scope = cfg.get('default_scope', 'eofm')
        if self.scope != 'eofm':
            import importlib
            importlib.import_module(f'{self.scope}.utils').register_all_modules(False)
        from eofm.apis.checkpoint_normalization import apply_checkpoint_normalization
        apply_checkpoint_normalization(cfg, checkpoint)
        with DefaultScope.overwrite_default_scope(self.scope):
            # through the default scope's registry, as tools/test.py's runner builds
            # it (mmrotate's detectors are mmdet types with mmrotate heads)
            self.model = MODELS.build(cfg.model)
            self.pipeline = Compose(self._pipeline_cfg(cfg))
        if checkpoint is not None:
            self._load(checkpoint)
        self.model.to(device).eval()
        self.device, self.precision = device, precision
        meta = {}
        loader = cfg.get('test_dataloader') or cfg.get('val_dataloader') or {}
        for _, leaf in leaf_dataset_cfgs(loader.get('dataset', {})):
            meta = dataset_metainfo(leaf, self.scope)
        where = config if isinstance(config, str) else 'the config'
        self.task, self.outputs = build_task(self.model, outputs, self.loader_cfg, meta,
                                             where, image_file=self.image_file)
        self.num_classes = self.task.channels if self.task.classes else None
        self.classes = self.task.classes
        self.palette = self.task.palette

    @property
    def loader(self):
        """The LoadMultiModalTiles of the pipeline."""
        return next(t for t in self.pipeline.transforms
                    if type(t).__name__ == 'LoadMultiModalTiles')

    def check_scene(self, modalities, ref, where='scene'):
        """Windows are read on ``ref``'s grid: the loader's reference becomes it;
        the modalities the model reads must be in the scene."""
        mods = self.loader_cfg.get('modalities') or {}
        if ref not in mods:
            raise SceneInferenceError(
                f'{where}: reference {ref!r} is not read by the config (its '
                f'LoadMultiModalTiles reads {sorted(mods)}): the windows are cut on '
                "the reference's grid, so name one of those")
        self.task.check_reference(ref, where)
        skip = self.task.not_read() | self.label_modalities
        missing = [m for m, c in mods.items() if m not in modalities and m not in skip
                   and (c or {}).get('required', True)]
        if missing:
            raise SceneInferenceError(
                f'{where}: the config reads the modalities {missing} (required in its '
                f'LoadMultiModalTiles), the scene has {sorted(modalities)}')
        self.loader.reference = ref

    def _pipeline_cfg(self, cfg):
        loader = cfg.get('test_dataloader') or cfg.get('val_dataloader')
        if not loader:
            raise SceneInferenceError('the config has no test_dataloader: scene '
                                      'inference uses its test pipeline')
        _, first = next(leaf_dataset_cfgs(loader['dataset']))
        pipeline = copy.deepcopy(first.get('pipeline') or [])
        out = []
        self.label_modalities = set()
        loads = [t for t in pipeline
                 if str(t.get('type', '')).split('.')[-1] in IMAGE_FILE_LOADERS]
        self.image_file = bool(loads)
        if loads:  # one image file: the scene's window instead (scene_tasks)
            out = image_file_pipeline(loads[0])
            self.loader_cfg = out[0]
            return out
        for t in pipeline:
            name = str(t.get('type', '')).split('.')[-1]
            if name in GEOMETRY_TRANSFORMS:
                continue
            if name in LABEL_TRANSFORMS:
                if name == 'OneHotToSegMap':  # reads a label modality
                    self.label_modalities.add(t.get('key'))
                continue
            if name == 'LoadMultiModalTiles':
                t = dict(t, label_maps={}, missing='skip')
                self.loader_cfg = t
            if name.startswith('Load') and name != 'LoadMultiModalTiles':
                raise SceneInferenceError(
                    f'scene inference needs a multi-modal test pipeline '
                    f'(eofm.LoadMultiModalTiles); the config loads with {name}')
            out.append(t)
        if not any(str(t.get('type', '')).endswith('LoadMultiModalTiles') for t in out):
            raise SceneInferenceError('the test pipeline has no eofm.LoadMultiModalTiles')
        return out

    def _load(self, checkpoint):
        """Strictly, through :func:`eofm.models.common.load_pretrained`."""
        from eofm.models.common import PretrainedMismatchError, load_pretrained
        if not osp.isfile(checkpoint):
            raise SceneInferenceError(f'checkpoint {checkpoint} does not exist')
        try:
            load_pretrained(self.model, checkpoint,
                            hint='  Is it a checkpoint of this config?')
        except PretrainedMismatchError as e:
            raise SceneInferenceError(
                f'checkpoint {checkpoint} does not fit the model of the config: '
                f'{e}') from e
        except Exception as e:  # noqa: BLE001 - named with the path
            raise SceneInferenceError(f'checkpoint {checkpoint}: cannot be read '
                                      f'({type(e).__name__}: {e})') from e

    def sample(self, scene_modalities, window, sample_id):
        results = dict(sample_id=sample_id, modalities=copy.deepcopy(scene_modalities),
                       window=window, label_maps={})
        from mmengine.registry import DefaultScope
        with DefaultScope.overwrite_default_scope(self.scope):
            return self.pipeline(results)

    @torch.no_grad()
    def run(self, samples, size, tta=None):
        """Per-pixel outputs (B, C, h, w) on the window grid ``size`` (h, w)."""
        from eofm.datasets import multimodal_collate
        data = self.task.preprocess(multimodal_collate(samples))
        if self.task.vector:  # features of each window (no flips: see configure)
            return self.task.forward(data['inputs'], data['data_samples'], size)
        views = [(False, False)] if not tta else [(False, False), (True, False),
                                                   (False, True), (True, True)]
        total = None
        for flip_h, flip_v in views:
            inputs = _flip(data['inputs'], flip_h, flip_v)
            with autocast(self.precision, self.device):
                out = self._forward(inputs, data['data_samples'], size)
            out = _flip_tensor(out.float(), flip_h, flip_v)
            total = out if total is None else total + out
        return (total / len(views)).float().cpu().numpy()

    def _forward(self, inputs, data_samples, size):
        return self.task.forward(inputs, data_samples, size)


def _flip_tensor(x, flip_h, flip_v):
    dims = [d for d, f in ((-1, flip_h), (-2, flip_v)) if f]
    return torch.flip(x, dims) if dims else x


def _flip(inputs, flip_h, flip_v):
    if not (flip_h or flip_v):
        return inputs
    if torch.is_tensor(inputs):
        return _flip_tensor(inputs, flip_h, flip_v)
    return {
        k: _flip_tensor(v, flip_h, flip_v)
        if torch.is_tensor(v) and v.dim() >= 3 and not k.endswith(
            ('_doy', '_date_mask', '_present')) else v
        for k, v in inputs.items()
    }


# ---------------------------------------------------------------------- the inferencer
class SceneInferencer:
    """Apply a config's model to whole scenes (see the module docstring).

    Args:
        config (str | Config): The model's config (its ``test_dataloader`` pipeline
            prepares the windows).
        checkpoint (str, optional): Weights; loaded strictly (a checkpoint of
            another model is an error naming its keys).
        device (str): 'cpu' (default) or 'cuda'.
        cfg_options (dict, optional): Overrides of the config.
        outputs (Sequence[str], optional): Layers to write: ``'class'``,
            ``'probs'``, ``'confidence'`` (segmentation and change detection),
            ``'image'`` (image-to-image), ``'boxes'`` (detection) or
            ``'embeddings'`` (any model). Default: the model's own (``'class'``,
            ``'image'`` or ``'boxes'``).
        tile (int): Window side in reference pixels. Default 256.
        overlap (int): Window overlap in reference pixels. Default 32.
        blend (str): ``'cosine'`` (default) or ``'none'``.
        tta (str, optional): ``'flip'`` averages the horizontal, vertical and both
            flips with the identity before blending.
        batch_size (int): Windows per forward pass. Default 4.
        block (int): Blocks are ``block x block`` windows. Default 4.
        num_threads (int, optional): torch CPU threads (recorded in the manifest).
        resample (str): Resampling of warped modalities (other CRS). 'bilinear'.
        precision (str): ``'auto'`` (default: bf16 autocast on a CPU with bf16
            matrix units, fp32 elsewhere and on GPUs), ``'fp32'``, ``'bf16'`` or
            ``'fp16'`` (GPUs); see :mod:`eofm.utils.precision`. The precision that
            ran is in the manifest's settings.
        progress (bool): Progress bar on the windows.
        nms_iou (float, optional): Detection: the IoU of the class-wise NMS over
            the boxes of all windows. Default: the model's ``test_cfg`` NMS
            threshold, else 0.5.
        score_thr (float, optional): Detection: boxes scoring less are dropped.
        feature (str, optional): Embeddings: the map of this name from the model's
            ``named_features(inputs)`` (e.g. SkySense's ``'fused_mm'``, the map
            before the geo-context, or one modality's ``'hr'`` / ``'s2'``)
            instead of its default features, as the probe tool's ``--feature``.
    """

    def __init__(self,
                 config,
                 checkpoint=None,
                 device='cpu',
                 cfg_options=None,
                 outputs=None,
                 tile=256,
                 overlap=32,
                 blend='cosine',
                 tta=None,
                 batch_size=4,
                 block=4,
                 num_threads=None,
                 resample='bilinear',
                 precision='auto',
                 progress=True,
                 nms_iou=None,
                 score_thr=None,
                 feature=None):
        outputs = tuple(outputs or ())
        bad = [o for o in outputs if o not in ALL_OUTPUTS]
        if bad:
            raise SceneInferenceError(f'outputs must be among {ALL_OUTPUTS}, got '
                                      f'{outputs}')
        if any(o not in EMBED_OUTPUTS for o in outputs) and 'embeddings' in outputs:
            raise SceneInferenceError("outputs: 'embeddings' and the model's own "
                                      'layers come from different runs (two calls)')
        if tile < 8 or overlap < 0 or overlap >= tile:
            raise SceneInferenceError(f'tile must be >= 8 and 0 <= overlap < tile, got '
                                      f'tile={tile}, overlap={overlap}')
        if blend not in ('cosine', 'none'):
            raise SceneInferenceError(f"blend must be 'cosine' or 'none', got {blend!r}")
        if tta not in (None, 'flip'):
            raise SceneInferenceError(f"tta must be None or 'flip', got {tta!r}")
        if batch_size < 1 or block < 1:
            raise SceneInferenceError('batch_size and block must be >= 1')
        if num_threads:
            torch.set_num_threads(int(num_threads))
        from eofm.utils.precision import resolve_precision
        try:
            precision = resolve_precision(precision, device)
        except ValueError as e:
            raise SceneInferenceError(f'precision: {e}') from e
        self.runner = _ModelRunner(config, checkpoint, device, cfg_options, outputs,
                                   precision)
        self.settings = dict(
            outputs=list(self.runner.outputs), tile=int(tile), overlap=int(overlap),
            blend=blend, tta=tta, block=int(block), resample=resample,
            precision=precision, num_threads=torch.get_num_threads())
        self.settings.update(self.runner.task.configure(
            nms_iou=nms_iou, score_thr=score_thr, tta=tta, feature=feature))
        self.batch_size, self.progress = batch_size, progress
        self.config_name = config if isinstance(config, str) else '<config>'
        self.checkpoint = checkpoint

    # -------------------------------------------------------------- the scene
    def _scene(self, scene, work):
        if isinstance(scene, str):
            if not osp.isfile(scene):
                raise SceneInferenceError(f'scene file {scene} does not exist')
            from mmengine.fileio import load
            base = osp.dirname(osp.abspath(scene))
            scene = load(scene)
            scene = _resolve_paths(scene, base)
        if not isinstance(scene, dict) or not isinstance(scene.get('modalities'), dict):
            raise SceneInferenceError("scene: needs 'modalities' (a dict of modality "
                                      'descriptions, as in an annotation file)')
        modalities = copy.deepcopy(scene['modalities'])
        ref = scene.get('reference')
        os.makedirs(work, exist_ok=True)
        if self.runner.task.name == 'change':  # the two acquisitions
            modalities, ref = change_scene_modalities(
                modalities, ref, scene.get('change'), self.runner.task.keys, work)
        elif scene.get('change') is not None:
            raise SceneInferenceError(
                f'scene: change is given, but the model is a {self.runner.task.name} '
                'model, not a change detector')
        ref = ref or next(iter(modalities))
        if ref not in modalities:
            raise SceneInferenceError(f'scene: reference {ref!r} is not one of the '
                                      f'modalities {sorted(modalities)}')
        modalities = {m: _select_dates(m, d, scene.get('dates')) for m, d in
                      modalities.items()}
        self._described = copy.deepcopy(modalities)  # before warping: the fingerprint
        ref_path = _first_path(ref, modalities[ref])
        info = raster_info(ref_path)
        if not info.crs_wkt:
            raise SceneInferenceError(f'scene: the reference raster {ref_path} has no '
                                      'CRS; outputs could not be geo-referenced')
        self.runner.check_scene(modalities, ref)
        grid = _Grid(info, scene.get('aoi'), 'scene')
        for name, desc in modalities.items():
            if name != ref:
                modalities[name] = _warp_if_needed(name, desc, info, grid, work,
                                                   self.settings['resample'])
        return modalities, ref, grid

    # -------------------------------------------------------------- run
    GDAL_CACHE_BYTES = 16 * 2**20

    def __call__(self, scene, out_dir, resume=False, overwrite=False, rank=None,
                 world_size=None):
        """Run over ``scene`` (a dict or a JSON / YAML file) into ``out_dir``.

        Returns the manifest (also ``out_dir/manifest.json``). ``rank`` /
        ``world_size`` default to torch.distributed's when it is initialised: each
        process runs the blocks ``i % world_size == rank``, rank 0 writes the files.

        GDAL's block cache is capped at :attr:`GDAL_CACHE_BYTES` during the run
        (its default, 5 % of the RAM, fills up with blocks of a large scene that
        the windows never read again, so the peak memory would grow with the
        scene) unless the user set a smaller one.
        """
        from osgeo import gdal
        cache = gdal.GetCacheMax()
        gdal.SetCacheMax(min(cache, self.GDAL_CACHE_BYTES))
        try:
            return self._call(scene, out_dir, resume, overwrite, rank, world_size)
        finally:
            gdal.SetCacheMax(cache)

    def _call(self, scene, out_dir, resume, overwrite, rank, world_size):
        if rank is None or world_size is None:
            import torch.distributed as dist
            if dist.is_available() and dist.is_initialized():
                rank, world_size = dist.get_rank(), dist.get_world_size()
            else:
                rank, world_size = 0, 1
        work = osp.join(out_dir, WORK)
        self._prepare_out_dir(out_dir, resume, overwrite, rank)
        _barrier(world_size)
        modalities, ref, grid = self._scene(scene, work)
        plan = self._plan(grid)
        fingerprint = self._fingerprint(modalities, ref, grid)
        journal_path = osp.join(work, 'journal.json')
        journal = self._journal(journal_path, fingerprint, resume, rank)
        manifest_path = osp.join(out_dir, 'manifest.json')
        if journal.get('assembled') and osp.isfile(manifest_path):
            # a finished run (its block arrays are gone): its files stand
            _barrier(world_size)
            return json.load(open(manifest_path)) if rank == 0 else None
        done = set(journal['done'])
        mine = [b for b in range(len(plan['blocks'])) if b % world_size == rank]
        todo = [b for b in mine if b not in done]
        stats = dict(windows=0, skipped_nodata=0, reused=len(mine) - len(todo))
        t0 = time.time()
        bar = None
        if self.progress and todo:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(sum(len(plan['blocks'][b]['windows']) for b in todo))

        def finish(b, saving):
            counts = saving.result()  # the block's files are written
            for k in ('windows', 'skipped_nodata'):
                stats[k] += counts[k]
            if world_size == 1:
                journal['done'] = sorted(set(journal['done']) | {b})
                _atomic_json(journal, journal_path)

        # a block's files are written by a thread (numpy releases the GIL in the
        # writes) while the next block reads and runs its first windows; that
        # block's accumulators are allocated once the write is done (ready), and
        # no reference to a written block is kept, so one block's accumulators are
        # in memory at a time. The journal names a block only once its files are
        # complete; a block in writing when the run is interrupted is finished and
        # journaled first
        in_writing = []

        def ready():
            while in_writing:
                finish(*in_writing.pop())

        with ThreadPoolExecutor(1) as writer:
            try:
                for b in todo:
                    save = self._run_block(b, plan, modalities, ref, grid, bar, ready)
                    ready()
                    in_writing.append((b, writer.submit(save, work)))
                    del save
            finally:
                ready()
        if bar is not None:
            print()
        _barrier(world_size)
        if rank != 0:
            return None
        if world_size > 1:
            journal['done'] = list(range(len(plan['blocks'])))
            _atomic_json(journal, journal_path)
        # windows run by this call (its throughput) and over the whole scene (each
        # window runs once, in its block; the blocks of every process and run)
        counts = [json.load(open(osp.join(work, f'block_{b:05d}.json')))
                  for b in range(len(plan['blocks']))]
        stats['windows_this_run'] = stats.pop('windows')
        stats['skipped_nodata_this_run'] = stats.pop('skipped_nodata')
        stats['windows'] = sum(c['windows'] for c in counts)
        stats['skipped_nodata'] = sum(c['skipped_nodata'] for c in counts)
        files = self._assemble(out_dir, work, plan, grid)
        quicklook = _write_quicklook(out_dir, files)
        elapsed = time.time() - t0
        manifest = dict(
            config=self.config_name, checkpoint=self.checkpoint,
            checkpoint_sha256=sha256_file(self.checkpoint) if self.checkpoint else None,
            reference=ref, crs=grid.crs, geotransform=list(grid.geotransform),
            width=grid.width, height=grid.height, settings=self.settings,
            task=self.runner.task.name, classes=self.runner.classes, files=files,
            quicklook=quicklook)
        _atomic_json(manifest, osp.join(out_dir, 'manifest.json'))
        summary = dict(stats, blocks=len(plan['blocks']), seconds=round(elapsed, 2),
                       windows_per_s=round(stats['windows_this_run'] / max(elapsed, 1e-9),
                                           3),
                       peak_rss_mib=round(_peak_rss_mib(), 1),
                       files=sorted(f['path'] for f in files.values()))
        # the blocks' arrays (rings of float sums, interiors' layers) are only
        # needed until the files are assembled: dropped, the journal says so; the
        # summary records how much they took (the work folder's disk at its peak)
        blocks_files = [osp.join(work, f) for f in os.listdir(work)
                        if f.startswith('block_') and f.endswith(('.npy', '.npz'))]
        summary['block_files_mib'] = round(
            sum(osp.getsize(f) for f in blocks_files) / 2**20, 1)
        _atomic_json(summary, osp.join(work, 'summary.json'))
        journal['assembled'] = True
        _atomic_json(journal, journal_path)
        for f in blocks_files:
            os.remove(f)
        if self.progress:
            print(f"scene inference: {stats['windows']} windows run "
                  f"({stats['windows_this_run']} in this call), "
                  f"{stats['skipped_nodata']} skipped (nodata), {stats['reused']} "
                  f"blocks from an earlier run, {summary['windows_per_s']} windows/s, "
                  f"peak RSS {summary['peak_rss_mib']} MiB; wrote "
                  f"{', '.join(summary['files'])}")
        return manifest

    def _prepare_out_dir(self, out_dir, resume, overwrite, rank):
        if rank != 0:
            return
        if osp.isdir(out_dir) and os.listdir(out_dir):
            if overwrite:
                shutil.rmtree(out_dir)
            elif not resume:
                raise SceneInferenceError(
                    f'output folder {out_dir} exists and is not empty: give resume=True '
                    '(--resume) to continue a run there, or overwrite=True '
                    '(--overwrite) to start again')
        os.makedirs(osp.join(out_dir, WORK), exist_ok=True)

    def _fingerprint(self, modalities, ref, grid):
        text = json.dumps(dict(layout=BLOCK_LAYOUT, modalities=self._described, reference=ref,
                               grid=[grid.x_off, grid.y_off, grid.width, grid.height],
                               settings={k: v for k, v in self.settings.items()
                                         if k != 'num_threads'},
                               config=self.runner.cfg.pretty_text,
                               checkpoint=sha256_file(self.checkpoint)
                               if self.checkpoint else None), sort_keys=True,
                          default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _journal(self, path, fingerprint, resume, rank):
        if osp.isfile(path):
            journal = json.load(open(path))
            if journal.get('fingerprint') != fingerprint:
                raise SceneInferenceError(
                    f'{path}: the output folder holds a run with another scene, '
                    'config, checkpoint or settings; use another folder or '
                    'overwrite=True (--overwrite)')
            return journal
        journal = dict(fingerprint=fingerprint, done=[])
        if rank == 0:
            _atomic_json(journal, path)
        return journal

    def _plan(self, grid):
        """Windows, their cores and the blocks.

        Each window belongs to one block (the ``block x block`` windows whose cores
        tile the block's ``region``) and is run once, there. A block accumulates the
        weighted outputs of its windows over their whole ``extent`` (the region plus
        the parts of its windows that reach into the neighbouring blocks) and saves
        that; a block's final values are the sums of every block whose extent
        reaches its region (its ``sources``, in block order), so blending across
        block borders needs no window to run twice.

        Only the block's ``rings`` (its extent less its ``interior``: the part of
        its region no other block's extent reaches) are saved as float sums; the
        interior is final once the block has run, and is saved converted to the
        output layers (a class map: 1 byte a pixel instead of 4 per channel), so
        the work folder holds little more than the outputs.
        """
        tile, overlap, blk = (self.settings['tile'], self.settings['overlap'],
                              self.settings['block'])
        ys = window_starts(grid.height, tile, overlap)
        xs = window_starts(grid.width, tile, overlap)
        th, tw = min(tile, grid.height), min(tile, grid.width)
        by, bx = core_bounds(ys, th, grid.height), core_bounds(xs, tw, grid.width)
        blocks = []
        for i0 in range(0, len(ys), blk):
            for j0 in range(0, len(xs), blk):
                i1, j1 = min(i0 + blk, len(ys)), min(j0 + blk, len(xs))
                region = (by[i0], by[i1], bx[j0], bx[j1])  # y0, y1, x0, x1
                if self.settings['blend'] == 'none' or self.runner.task.vector:
                    extent = region  # weights (boxes) only in the cores
                else:
                    extent = (ys[i0], ys[i1 - 1] + th, xs[j0], xs[j1 - 1] + tw)
                blocks.append(dict(region=region, extent=extent,
                                   windows=[(i, j) for i in range(i0, i1)
                                            for j in range(j0, j1)]))
        for blk_ in blocks:
            blk_['sources'] = [k for k, o in enumerate(blocks)
                               if _box_and(o['extent'], blk_['region'])]
        for b, blk_ in enumerate(blocks):
            blk_['interior'] = _interior(blk_['region'], [
                blocks[k]['extent'] for k in blk_['sources'] if k != b])
            blk_['rings'] = _ring_boxes(blk_['extent'], blk_['interior'])
        return dict(ys=ys, xs=xs, th=th, tw=tw, by=by, bx=bx, blocks=blocks)

    def _window_weight(self, plan, i, j):
        """(th, tw) weights of window (i, j); read-only (shared between windows)."""
        th, tw = plan['th'], plan['tw']
        if self.settings['blend'] == 'cosine':
            # margins of (overlap - 1) // 2 px are left out, except on sides at the
            # scene border (nothing else covers them); the windows on either side of
            # an overlap still cover every pixel of it
            m = (self.settings['overlap'] - 1) // 2 if self.settings['overlap'] else 0
            margins = (m if i > 0 else 0, m if i < len(plan['ys']) - 1 else 0,
                       m if j > 0 else 0, m if j < len(plan['xs']) - 1 else 0)
            cache = plan.setdefault('weights', {})  # at most 9 kinds of window
            if margins not in cache:
                cache[margins] = blend_weights(th, tw, 'cosine', margins)
                cache[margins].flags.writeable = False
            return cache[margins]
        y0, x0 = plan['ys'][i], plan['xs'][j]
        w = np.zeros((th, tw), np.float32)
        w[plan['by'][i] - y0:plan['by'][i + 1] - y0,
          plan['bx'][j] - x0:plan['bx'][j + 1] - x0] = 1.0
        return w

    def _run_block(self, b, plan, modalities, ref, grid, bar, ready=None):
        """Run block ``b``'s windows; returns ``save(work) -> counts``, which saves
        their weighted sums over the block's extent (or its features).

        ``ready()`` is called once before the block's accumulators are allocated
        (when its first windows' outputs are there): the previous block's write
        is waited for then, so that one block's accumulators are in memory at a
        time while the write still overlaps the reading and the first forward
        pass of the next block.
        """
        y0, y1, x0, x1 = plan['blocks'][b]['extent']
        acc, wsum = None, None
        pending, found, task = [], [], self.runner.task
        counts = dict(windows=0, skipped_nodata=0)

        def flush():
            if not pending:
                return
            outs = self.runner.run([p[0] for p in pending], (plan['th'], plan['tw']),
                                   self.settings['tta'])
            if task.vector:  # the features whose centre is in the window's core
                found.extend(task.keep(out, (plan['xs'][j], plan['ys'][i]),
                                       _core(plan, i, j))
                             for (_, i, j, _), out in zip(pending, outs))
                pending.clear()
                return
            nonlocal acc, wsum
            for (_, i, j, valid), out in zip(pending, outs):
                if acc is None:
                    if ready is not None:
                        ready()
                    acc = np.zeros((out.shape[0], y1 - y0, x1 - x0), np.float32)
                    wsum = np.zeros((y1 - y0, x1 - x0), np.float32)
                wy, wx = plan['ys'][i], plan['xs'][j]
                weight = self._window_weight(plan, i, j)
                if valid is not None:
                    weight = weight * valid
                sy0, sy1 = max(y0, wy), min(y1, wy + plan['th'])
                sx0, sx1 = max(x0, wx), min(x1, wx + plan['tw'])
                ws = weight[sy0 - wy:sy1 - wy, sx0 - wx:sx1 - wx]
                part = out[:, sy0 - wy:sy1 - wy, sx0 - wx:sx1 - wx]
                np.multiply(part, ws, out=part)
                acc[:, sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] += part
                wsum[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] += ws
            pending.clear()

        for i, j in plan['blocks'][b]['windows']:
            window = (grid.x_off + plan['xs'][j], grid.y_off + plan['ys'][i],
                      plan['tw'], plan['th'])
            sample = self.runner.sample(modalities, window, f'window_{i}_{j}')
            valid = _reference_validity(sample, self.runner.task.validity_keys(ref),
                                        (plan['th'], plan['tw']))
            if bar is not None:
                bar.update()
            if not valid.any():
                counts['skipped_nodata'] += 1
                continue
            counts['windows'] += 1
            # None: every pixel valid (the weights need no mask)
            pending.append((sample, i, j, None if valid.all() else
                            valid.astype(np.float32)))
            if len(pending) >= self.batch_size:
                flush()
        flush()
        held = dict(features=task.merge(found)) if task.vector else dict(
            acc=acc, wsum=wsum)
        acc = wsum = None  # held by the saver only
        meta = dict(counts, channels=0 if held.get('acc') is None else
                    int(held['acc'].shape[0]))

        def save(work):
            if task.vector:
                _atomic_npz(osp.join(work, f'block_{b:05d}.npz'), **held['features'])
            elif held['acc'] is not None:  # else no window ran: nothing but nodata
                self._save_block(work, plan, b, held.pop('acc'), held.pop('wsum'))
            _atomic_json(meta, osp.join(work, f'block_{b:05d}.json'))
            return counts

        return save

    def _save_block(self, work, plan, b, acc, wsum):
        """Block ``b``'s rings as float sums (``block_{b}_ring{n}_{acc,wsum}.npy``,
        one file per array, so that assembling reads only the slices it needs),
        and its interior as the output layers (``block_{b}_{layer}.npy``)."""
        blk = plan['blocks'][b]
        ey0, _, ex0, _ = blk['extent']

        def put(name, arr):
            path = osp.join(work, f'block_{b:05d}_{name}.npy')
            tmp = f'{path}.tmp{os.getpid()}.npy'
            np.save(tmp, arr)
            os.replace(tmp, path)

        for n, (y0, y1, x0, x1) in enumerate(blk['rings']):
            put(f'ring{n}_acc', acc[:, y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0])
            put(f'ring{n}_wsum', wsum[y0 - ey0:y1 - ey0, x0 - ex0:x1 - ex0])
        iy0, iy1, ix0, ix1 = blk['interior']
        if iy0 >= iy1 or ix0 >= ix1:
            return
        # converted a strip of rows at a time, normalised in place (the rings are
        # saved; the interior of acc is not read again)
        out, layers = {}, self._layers(acc.shape[0])
        for y in range(iy0, iy1, self.STRIP_ROWS):
            rows = slice(y - ey0, min(y + self.STRIP_ROWS, iy1) - ey0)
            cols = slice(ix0 - ex0, ix1 - ex0)
            value, valid = _normalise(acc[:, rows, cols], wsum[rows, cols])
            for name, spec in layers.items():
                arr = spec['convert'](value, valid)
                if name not in out:
                    out[name] = np.empty((arr.shape[0], iy1 - iy0, ix1 - ix0),
                                         arr.dtype)
                out[name][:, y - iy0:y - iy0 + arr.shape[1]] = arr
        for name, arr in out.items():
            put(name, arr)

    STRIP_ROWS = 256

    def _block_strips(self, plan, b):
        """Block ``b``'s region in strips of :attr:`STRIP_ROWS` rows, each
        ``(y0, y1, x0, x1)``: the values are assembled a strip at a time, so that
        assembling holds a strip's float arrays, not a block's."""
        y0, y1, x0, x1 = plan['blocks'][b]['region']
        return [(y, min(y + self.STRIP_ROWS, y1), x0, x1)
                for y in range(y0, y1, self.STRIP_ROWS)]

    def _block_value(self, work, plan, b, channels, part):
        """Blended values ``(channels, h, w)`` over ``part`` (one of
        :meth:`_block_strips`) of block ``b`` outside its interior, and their
        validity (pixels some window gave weight to): the weighted sums of the
        rings of its sources, added in block order (the same numbers whichever
        processes ran them, and after a resume). Interior pixels are left invalid
        here; their layers are in the block's files (:meth:`_interior_layer`)."""
        y0, y1, x0, x1 = part
        acc = np.zeros((channels, y1 - y0, x1 - x0), np.float32)
        wsum = np.zeros((y1 - y0, x1 - x0), np.float32)
        for k in plan['blocks'][b]['sources']:
            for n, box in enumerate(plan['blocks'][k]['rings']):
                inter = _box_and(box, part)
                if inter is None:  # the ring does not reach this strip
                    continue
                path = osp.join(work, f'block_{k:05d}_ring{n}_acc.npy')
                if not osp.isfile(path):  # no window ran in block k
                    break
                sy0, sy1, sx0, sx1 = inter
                ry0, rx0 = box[0], box[2]
                src = np.load(path, mmap_mode='r')
                w = np.load(osp.join(work, f'block_{k:05d}_ring{n}_wsum.npy'),
                            mmap_mode='r')
                acc[:, sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] += \
                    src[:, sy0 - ry0:sy1 - ry0, sx0 - rx0:sx1 - rx0]
                wsum[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] += \
                    w[sy0 - ry0:sy1 - ry0, sx0 - rx0:sx1 - rx0]
        return _normalise(acc, wsum)

    @staticmethod
    def _interior_layer(work, plan, b, name, part):
        """Layer ``name`` of block ``b``'s interior over ``part``: ``(slices into
        the part, (bands, h, w) array)``, or None (no interior there, or no window
        ran in the block: nodata, as :meth:`_block_value` gives)."""
        inter = _box_and(plan['blocks'][b]['interior'], part)
        path = osp.join(work, f'block_{b:05d}_{name}.npy')
        if inter is None or not osp.isfile(path):
            return None
        iy0, _, ix0, _ = plan['blocks'][b]['interior']
        sy0, sy1, sx0, sx1 = inter
        arr = np.load(path, mmap_mode='r')[:, sy0 - iy0:sy1 - iy0, sx0 - ix0:sx1 - ix0]
        return (slice(None), slice(sy0 - part[0], sy1 - part[0]),
                slice(sx0 - part[2], sx1 - part[2])), arr

    def _channels(self):
        return self.runner.task.channels or 1

    # -------------------------------------------------------------- writing
    def _assemble(self, out_dir, work, plan, grid):
        from osgeo import gdal
        gdal.UseExceptions()
        blocks = plan['blocks']
        if self.runner.task.vector:
            return self.runner.task.write(out_dir, work, [
                osp.join(work, f'block_{b:05d}.npz') for b in range(len(blocks))], grid)
        # the channels come from a block where windows ran (none: a placeholder)
        channels = next((c for c in (json.load(open(osp.join(
            work, f'block_{b:05d}.json'))).get('channels', 0)
            for b in range(len(blocks))) if c), 1)
        layers = self._layers(channels)
        files, datasets = {}, {}
        for name, spec in layers.items():
            tmp = osp.join(work, f'{name}.tif')
            drv = gdal.GetDriverByName('GTiff')
            ds = drv.Create(tmp, grid.width, grid.height, spec['bands'], spec['gdal'],
                            options=['TILED=YES', 'BLOCKXSIZE=256', 'BLOCKYSIZE=256'])
            ds.SetGeoTransform(grid.geotransform)
            ds.SetProjection(grid.crs)
            for k in range(spec['bands']):
                band = ds.GetRasterBand(k + 1)
                band.SetNoDataValue(spec['nodata'])
                if spec.get('names'):
                    band.SetDescription(spec['names'][k])
            if name == 'class':
                band = ds.GetRasterBand(1)
                ct = gdal.ColorTable()
                for c, rgb in enumerate(_palette(len(self.runner.classes),
                                                 self.runner.palette)):
                    ct.SetColorEntry(c, (*rgb, 255))
                band.SetRasterColorTable(ct)
                # inside the TIFF (category names would go to a side .aux.xml file)
                for c, cname in enumerate(self.runner.classes):
                    band.SetMetadataItem(f'CLASS_{c}', str(cname))
            datasets[name] = ds
        ds = band = None  # the datasets close below, before they are translated
        # each block's values once, converted to every layer
        for b in range(len(blocks)):
            for part in self._block_strips(plan, b):
                value, valid = self._block_value(work, plan, b, channels, part)
                for name, spec in layers.items():
                    arr = spec['convert'](value, valid)
                    inner = self._interior_layer(work, plan, b, name, part)
                    if inner is not None:
                        arr[inner[0]] = inner[1]
                    for k in range(spec['bands']):
                        datasets[name].GetRasterBand(k + 1).WriteArray(
                            arr[k], part[2], part[0])
        for name, spec in layers.items():
            tmp = osp.join(work, f'{name}.tif')
            datasets[name].FlushCache()
            datasets[name] = None  # closes the file
            path = osp.join(out_dir, f'{name}.tif')
            tmp_cog = osp.join(work, f'{name}.cog.tif')
            gdal.Translate(tmp_cog, tmp, format='COG', creationOptions=[
                'COMPRESS=DEFLATE', 'BLOCKSIZE=256',
                f'RESAMPLING={spec["resampling"]}', 'OVERVIEWS=IGNORE_EXISTING'])
            os.replace(tmp_cog, path)
            os.remove(tmp)
            files[name] = dict(path=osp.basename(path), bands=spec['bands'],
                               dtype=spec['dtype'], nodata=spec['nodata'],
                               scale=spec.get('scale'))
        if 'embeddings' in layers:
            files['embeddings']['preview'] = self._preview(out_dir, work, plan, grid,
                                                           channels)
        return files

    def _layers(self, channels):
        return self.runner.task.layers(channels, self.settings['outputs'])

    def _embedding_values(self, work, plan, b, channels, part):
        """The embeddings over ``part`` of block ``b``: the blended rings, and the
        interior as written (float16)."""
        value, valid = self._block_value(work, plan, b, channels, part)
        inner = self._interior_layer(work, plan, b, 'embeddings', part)
        if inner is not None:
            value[inner[0]] = inner[1]
            valid[inner[0][1:]] = np.isfinite(inner[1]).all(0)
        return value, valid

    def _preview(self, out_dir, work, plan, grid, channels, max_side=512):
        """An RGB PNG of the first three principal components (fitted on every
        eighth valid pixel of every block)."""
        from PIL import Image
        samples = []
        blocks = plan['blocks']
        for b in range(len(blocks)):
            for part in self._block_strips(plan, b):
                v, valid = self._embedding_values(work, plan, b, channels, part)
                if not valid.any():  # no data there (a placeholder block)
                    continue
                pix = v.reshape(v.shape[0], -1)[:, valid.reshape(-1)].T[::8]
                samples.append(pix.astype(np.float64))
        x = np.concatenate(samples)
        mean = x.mean(0)
        _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
        comps = vt[:3]
        comps *= np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])[:, None]
        proj = (x - mean) @ comps.T
        lo, hi = np.percentile(proj, 2, axis=0), np.percentile(proj, 98, axis=0)
        step = max(1, int(math.ceil(max(grid.width, grid.height) / max_side)))
        img = np.zeros((math.ceil(grid.height / step), math.ceil(grid.width / step), 3),
                       np.uint8)
        for b in range(len(blocks)):
            for part in self._block_strips(plan, b):
                y0, y1, x0, x1 = part
                ys = np.arange(-(-y0 // step) * step, y1, step)
                xs = np.arange(-(-x0 // step) * step, x1, step)
                if not len(ys) or not len(xs):
                    continue
                value, valid = self._embedding_values(work, plan, b, channels, part)
                if not valid.any():
                    continue
                v = value[:, ys[:, None] - y0, xs[None, :] - x0]
                p = np.einsum('chw,kc->hwk', v - mean[:, None, None], comps)
                rgb = np.clip((p - lo) / np.maximum(hi - lo, 1e-12), 0, 1)
                rgb[~valid[ys[:, None] - y0, xs[None, :] - x0]] = 0
                img[np.ix_(ys // step, xs // step)] = (rgb * 255).astype(np.uint8)
        path = osp.join(out_dir, 'embeddings_preview.png')
        Image.fromarray(img).save(path)
        pca = dict(mean=mean.tolist(), components=comps.tolist())
        _atomic_json(pca, osp.join(out_dir, 'embeddings_pca.json'))
        return dict(png=osp.basename(path), pca='embeddings_pca.json')


def _normalise(acc, wsum):
    """Blended values from weighted sums, in place: ``acc / wsum`` where some
    window gave weight, 0 elsewhere; returns ``(acc, valid)``. Block interiors
    (when saved) and rings (when assembled) go through it: the same numbers."""
    valid = wsum > 0
    np.divide(acc, np.maximum(wsum, 1e-12), out=acc)
    np.copyto(acc, 0.0, where=~valid)
    return acc, valid


def _box_and(a, b):
    """The intersection of two (y0, y1, x0, x1) boxes, None when empty."""
    y0, y1, x0, x1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
    return (y0, y1, x0, x1) if y0 < y1 and x0 < x1 else None


def _interior(region, others):
    """The largest part of ``region`` that no box of ``others`` reaches, as a box:
    the region less the strips that the neighbours' extents cover along whole
    sides (a corner neighbour reaches less far than the side ones); an empty box
    (y0 == y1) when something else still reaches in."""
    y0, y1, x0, x1 = region
    iy0, iy1, ix0, ix1 = region
    for e in others:
        inter = _box_and(e, region)
        if inter is None:
            continue
        if inter[2] == x0 and inter[3] == x1:  # a whole-width strip: top or bottom
            if inter[0] == y0:
                iy0 = max(iy0, inter[1])
            elif inter[1] == y1:
                iy1 = min(iy1, inter[0])
        elif inter[0] == y0 and inter[1] == y1:  # whole height: left or right
            if inter[2] == x0:
                ix0 = max(ix0, inter[3])
            elif inter[3] == x1:
                ix1 = min(ix1, inter[2])
    box = (iy0, max(iy0, iy1), ix0, max(ix0, ix1))
    if box[0] == box[1] or box[2] == box[3] or any(
            _box_and(e, box) for e in others):
        return (y0, y0, x0, x0)
    return box


def _ring_boxes(extent, interior):
    """``extent`` less ``interior`` as up to four disjoint boxes (top, bottom,
    left, right); the whole extent when the interior is empty."""
    ey0, ey1, ex0, ex1 = extent
    iy0, iy1, ix0, ix1 = interior
    if iy0 >= iy1 or ix0 >= ix1:
        return [tuple(extent)]
    boxes = [(ey0, iy0, ex0, ex1), (iy1, ey1, ex0, ex1), (iy0, iy1, ex0, ix0),
             (iy0, iy1, ix1, ex1)]
    return [bx for bx in boxes if bx[0] < bx[1] and bx[2] < bx[3]]


def _barrier(world_size):
    if world_size > 1:
        import torch.distributed as dist
        dist.barrier()


def _resolve_paths(scene, base):
    scene = copy.deepcopy(scene)
    for desc in (scene.get('modalities') or {}).values():
        for key in ('path', ):
            if isinstance(desc.get(key), str) and not osp.isabs(desc[key]):
                desc[key] = osp.join(base, desc[key])
        for key in ('paths', 'band_paths'):
            if desc.get(key):
                desc[key] = [p if osp.isabs(p) else osp.join(base, p) for p in desc[key]]
    return scene


def _first_path(name, desc):
    for key in ('path', 'paths', 'band_paths'):
        v = desc.get(key)
        if v:
            return v if isinstance(v, str) else v[0]
    raise SceneInferenceError(f"scene: modality {name!r} needs 'path', 'paths' or "
                              "'band_paths'")


def _select_dates(name, desc, dates):
    """Keep the dates in ``dates=dict(start=..., end=...)`` (one file per date only;
    a stack keeps its dates and the pipeline's temporal sampling chooses)."""
    if not dates or desc.get('dates') is None:
        return desc
    start = parse_date(dates['start'], 'scene: dates.start') if dates.get('start') else None
    end = parse_date(dates['end'], 'scene: dates.end') if dates.get('end') else None
    where = f'scene: {name}.dates'
    parsed = [parse_date(d, where, desc.get('date_format')) for d in desc['dates']]
    keep = [k for k, d in enumerate(parsed)
            if (start is None or d >= start) and (end is None or d <= end)]
    if not keep:
        raise SceneInferenceError(
            f'scene: modality {name!r} has no date between {dates.get("start")} and '
            f'{dates.get("end")} (its dates run from {min(parsed)} to {max(parsed)})')
    if 'paths' in desc:
        return dict(desc, paths=[desc['paths'][k] for k in keep],
                    dates=[desc['dates'][k] for k in keep])
    if len(keep) != len(parsed):
        raise SceneInferenceError(
            f'scene: modality {name!r} is one date-major stack; a date range selects '
            'files, so give it as one file per date (paths) to select dates')
    return desc


def _warp_if_needed(name, desc, ref_info, grid, work, resample):
    """The modality, warped to the reference CRS (a VRT in ``work``) when its CRS
    differs; an error when it does not cover the area of interest."""
    from osgeo import gdal, osr
    gdal.UseExceptions()
    keys = [k for k in ('path', 'paths', 'band_paths') if desc.get(k)]
    if not keys or desc.get('format', 'gdal') != 'gdal':
        return desc
    ref_srs = osr.SpatialReference()
    ref_srs.ImportFromWkt(ref_info.crs_wkt)
    x0, dx, _, y0, _, dy = grid.geotransform
    aoi = (min(x0, x0 + dx * grid.width), min(y0, y0 + dy * grid.height),
           max(x0, x0 + dx * grid.width), max(y0, y0 + dy * grid.height))
    out = dict(desc)
    for key in keys:
        paths = [desc[key]] if isinstance(desc[key], str) else list(desc[key])
        new = []
        for p in paths:
            try:
                info = raster_info(p)
            except RasterReadError as e:
                raise SceneInferenceError(f'scene: modality {name!r}: {e}') from e
            if not info.crs_wkt:
                raise SceneInferenceError(f'scene: modality {name!r}: {p} has no CRS')
            srs = osr.SpatialReference()
            srs.ImportFromWkt(info.crs_wkt)
            if srs.IsSame(ref_srs):
                b = info.bounds
                if b[0] > aoi[0] + 1e-6 or b[1] > aoi[1] + 1e-6 or b[2] < aoi[2] - 1e-6 \
                        or b[3] < aoi[3] - 1e-6:
                    raise SceneInferenceError(
                        f'scene: modality {name!r}: {p} does not cover the area '
                        f'(its bounds {tuple(round(v, 2) for v in b)}, the area '
                        f'{tuple(round(v, 2) for v in aoi)})')
                new.append(p)
                continue
            digest = hashlib.sha1(osp.abspath(p).encode()).hexdigest()[:12]
            vrt = osp.join(work, f'warp_{name}_{digest}.vrt')
            # the native pixel size, expressed in the reference CRS
            res = native_resolution(info, ref_srs.ExportToWkt())
            pad = 2 * res
            tmp = f'{vrt}.tmp{os.getpid()}.vrt'  # every rank may warp: atomic
            ds = gdal.Warp(tmp, open_raster(osp.abspath(p)), format='VRT',
                           dstSRS=ref_info.crs_wkt,
                           outputBounds=(aoi[0] - pad, aoi[1] - pad, aoi[2] + pad,
                                         aoi[3] + pad), xRes=res, yRes=res,
                           resampleAlg=resample, srcNodata=None)
            if ds is None:
                raise SceneInferenceError(f'scene: modality {name!r}: cannot warp {p} '
                                          'to the reference CRS')
            ds = None
            os.replace(tmp, vrt)
            raster_info(vrt)  # readable
            # the warped raster must hold data over the area: check its coverage
            src_bounds = _transformed_bounds(info, srs, ref_srs)
            if src_bounds[0] > aoi[0] or src_bounds[1] > aoi[1] or \
                    src_bounds[2] < aoi[2] or src_bounds[3] < aoi[3]:
                raise SceneInferenceError(
                    f'scene: modality {name!r}: {p} does not cover the area (in the '
                    f'reference CRS its bounds are '
                    f'{tuple(round(v, 2) for v in src_bounds)}, the area '
                    f'{tuple(round(v, 2) for v in aoi)})')
            new.append(vrt)
        out[key] = new[0] if isinstance(desc[key], str) else new
    return out


def _transformed_bounds(info, srs, ref_srs):
    return transform_bounds(info.bounds, srs.ExportToWkt(), ref_srs.ExportToWkt())


def _core(plan, i, j):
    """Window (i, j)'s core (y0, y1, x0, x1) in grid pixels, unbounded on the
    scene's sides (a feature centred just outside the scene still counts once)."""
    by, bx = plan['by'], plan['bx']
    return (by[i] if i else -math.inf, by[i + 1] if i + 1 < len(by) - 1 else math.inf,
            bx[j] if j else -math.inf, bx[j + 1] if j + 1 < len(bx) - 1 else math.inf)


def _reference_validity(sample, refs, size):
    """(h, w) bool: pixels with at least one valid observation in every modality
    of ``refs`` (the reference; both acquisitions of a change detector)."""
    inputs = sample['inputs']
    out = np.ones(size, bool)
    for ref in (refs, ) if isinstance(refs, str) else refs:
        mask = inputs.get(f'{ref}_mask') if isinstance(inputs, dict) else None
        if mask is None:
            continue
        m = mask.numpy() if torch.is_tensor(mask) else np.asarray(mask)
        m = m.any(0) if m.ndim == 3 else m
        if m.shape != tuple(size):
            t = torch.from_numpy(m.astype(np.float32))[None, None]
            m = F.interpolate(t, size=size, mode='nearest')[0, 0].numpy() > 0.5
        out &= m
    return out
