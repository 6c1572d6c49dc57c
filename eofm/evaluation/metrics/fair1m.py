"""FAIR1M metric: DOTA-style mAP on labelled patches, FAIR1M XML files for the test set.

SkySense (CVPR 2024) reports FAIR1M in Table 2b (mAP 54.57, Oriented R-CNN, setup of
Table J13 (ii)) from the official leaderboard-v2.0: the test labels are not public,
the server takes one XML file per test image, in the format of FAIR1M's own
``labelXml`` files (read by ``tools/dataset_converters/fair1m_to_dota.py``)::

    <annotation>
      <source><filename>0.tif</filename><origin>GF2/GF3</origin></source>
      <objects>
        <object>
          <coordinate>pixel</coordinate><type>rectangle</type>
          <description>None</description>
          <possibleresult><name>Small Car</name><probability>0.93</probability>
          </possibleresult>
          <points><point>x1,y1</point> ... <point>x4,y4</point><point>x1,y1</point>
          </points>
        </object> ...
      </objects>
    </annotation>

(five points: the polygon is closed by repeating the first corner; class names as
written by FAIR1M, with spaces). The test images are cut into patches by
``tools/dataset_converters/dota_split.py`` (ids ``<image>__<size>__<x>___<y>``);
:class:`FAIR1MMetric` merges the patch predictions back to whole images with
mmrotate's ``merge_results_by_nms`` (the shift and class-wise rotated NMS of
``DOTAMetric(merge_patches=True)``) and writes ``<outfile_prefix>/<image>.xml`` per
image, plus ``<outfile_prefix>.zip`` holding them under the folder's name.
"""
import os
import os.path as osp
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from mmrotate.evaluation import DOTAMetric
from mmrotate.structures.bbox import rbox2qbox
from mmrotate.utils.patch import merge_results_by_nms

from eofm.registry import METRICS

__all__ = [
    'FAIR1MMetric', 'parse_patch_id', 'merge_patch_predictions', 'fair1m_xml',
    'write_fair1m_submission'
]

# <image>__<window size>__<x>___<y>, the patch ids of dota_split.py / mmrotate
_PATCH_ID = re.compile(r'^(?P<name>.+?)__(?P<size>\d+)__(?P<x>\d+)___(?P<y>\d+)$')


def parse_patch_id(img_id: str) -> Tuple[str, Tuple[int, int]]:
    """``(image name, (x, y))`` of a patch id ``<image>__<size>__<x>___<y>``.

    An id without the patch suffix is a whole image (offset ``(0, 0)``).
    """
    match = _PATCH_ID.match(str(img_id))
    if match is None:
        return str(img_id), (0, 0)
    return match['name'], (int(match['x']), int(match['y']))


def merge_patch_predictions(results: Sequence[dict],
                            iou_thr: float = 0.1,
                            box_type: str = 'rbox') -> 'OrderedDict[str, dict]':
    """Merge the predictions of the patches of each image (whole-image coordinates).

    ``results``: dicts with ``img_id`` (patch id), ``bboxes`` ((N, 5) rbox or (N, 8)
    qbox, patch pixels), ``scores`` and ``labels`` (numpy or tensors). Boxes are
    shifted by the patch offset and reduced by class-wise NMS (``nms_rotated`` /
    ``nms_quadri`` at ``iou_thr``), as ``DOTAMetric(merge_patches=True)`` does,
    through mmrotate's ``merge_results_by_nms``. Returns image name -> dict of numpy
    ``bboxes``, ``scores``, ``labels``, in order of first appearance; an image whose
    patches hold no box is kept with empty arrays.
    """
    if box_type not in ('rbox', 'qbox'):
        raise ValueError(f'FAIR1MMetric: predict_box_type must be "rbox" or "qbox", '
                         f'got "{box_type}".')
    dim = 5 if box_type == 'rbox' else 8
    groups: 'OrderedDict[str, Tuple[list, list]]' = OrderedDict()
    for res in results:
        name, offset = parse_patch_id(res['img_id'])
        # Copies: merge_results_by_nms shifts the boxes in place.
        inst = InstanceData(
            bboxes=torch.as_tensor(np.array(res['bboxes'], np.float32)).view(-1, dim),
            scores=torch.as_tensor(np.array(res['scores'], np.float32)).view(-1),
            labels=torch.as_tensor(np.array(res['labels'], np.int64)).view(-1))
        samples, offsets = groups.setdefault(name, ([], []))
        samples.append(DetDataSample(pred_instances=inst))
        offsets.append(offset)
    nms_cfg = dict(
        type='nms_rotated' if box_type == 'rbox' else 'nms_quadri',
        iou_threshold=iou_thr)
    merged = OrderedDict()
    for name, (samples, offsets) in groups.items():
        if sum(len(s.pred_instances) for s in samples) == 0:
            # mmcv's batched_nms cannot take an empty set
            merged[name] = dict(
                bboxes=np.zeros((0, dim), np.float32),
                scores=np.zeros(0, np.float32),
                labels=np.zeros(0, np.int64))
            continue
        pred = merge_results_by_nms(samples, np.array(offsets), None,
                                    nms_cfg).pred_instances
        merged[name] = dict(
            bboxes=pred.bboxes.numpy(),
            scores=pred.scores.numpy(),
            labels=pred.labels.numpy())
    return merged


def fair1m_xml(filename: str, names: Sequence[str], polygons: np.ndarray,
               scores: Sequence[float]) -> ET.ElementTree:
    """The FAIR1M XML tree of one image (format in the module docstring).

    ``polygons``: (N, 8) corners ``x1 y1 ... x4 y4`` in image pixels; the written
    ``<points>`` repeat the first corner, as FAIR1M's files do.
    """
    ann = ET.Element('annotation')
    src = ET.SubElement(ann, 'source')
    ET.SubElement(src, 'filename').text = filename
    ET.SubElement(src, 'origin').text = 'GF2/GF3'
    objects = ET.SubElement(ann, 'objects')
    polygons = np.asarray(polygons, np.float64).reshape(-1, 8)
    for name, poly, score in zip(names, polygons, scores):
        obj = ET.SubElement(objects, 'object')
        ET.SubElement(obj, 'coordinate').text = 'pixel'
        ET.SubElement(obj, 'type').text = 'rectangle'
        ET.SubElement(obj, 'description').text = 'None'
        res = ET.SubElement(obj, 'possibleresult')
        ET.SubElement(res, 'name').text = name
        ET.SubElement(res, 'probability').text = f'{float(score):.6f}'
        points = ET.SubElement(obj, 'points')
        corners = poly.reshape(4, 2).tolist()
        for x, y in corners + corners[:1]:
            ET.SubElement(points, 'point').text = f'{x:.6f},{y:.6f}'
    ET.indent(ann)
    return ET.ElementTree(ann)


def write_fair1m_submission(images: Dict[str, dict],
                            classes: Sequence[str],
                            out_dir: str,
                            img_suffix: str = '.tif',
                            box_type: str = 'rbox',
                            make_zip: bool = True) -> List[str]:
    """Write ``<out_dir>/<image>.xml`` per image (and ``<out_dir>.zip``).

    ``images``: image name -> ``bboxes`` (whole-image rbox or qbox), ``scores``,
    ``labels`` (indices into ``classes``; ``_`` in a class name is written as a
    space, undoing ``fair1m_dota_name``). Refuses an ``out_dir`` that exists and is
    not empty, or an existing zip, so that nothing (annotations included) is ever
    overwritten. Returns the written XML paths.
    """
    out_dir = osp.normpath(out_dir)
    zip_path = out_dir + '.zip'
    if osp.isdir(out_dir) and os.listdir(out_dir) or osp.isfile(out_dir):
        raise FileExistsError(
            f'FAIR1MMetric: outfile_prefix "{out_dir}" exists and is not an empty '
            'folder; the submission is written only to a new folder (set '
            '`test_evaluator.outfile_prefix` in the config or via --cfg-options).')
    if make_zip and osp.exists(zip_path):
        raise FileExistsError(f'FAIR1MMetric: "{zip_path}" exists; remove it or set '
                              'another `test_evaluator.outfile_prefix`.')
    os.makedirs(out_dir, exist_ok=True)
    names = [c.replace('_', ' ') for c in classes]
    paths = []
    for img, pred in images.items():
        boxes = torch.as_tensor(np.asarray(pred['bboxes'], np.float32))
        if box_type == 'rbox':
            boxes = rbox2qbox(boxes.view(-1, 5))
        polys = boxes.view(-1, 8).numpy()
        labels = np.asarray(pred['labels'], np.int64).reshape(-1)
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise ValueError(f'FAIR1MMetric: a prediction of "{img}" has label '
                             f'{int(labels.max())}, outside the {len(names)} classes '
                             'of the dataset meta.')
        tree = fair1m_xml(img + img_suffix, [names[i] for i in labels], polys,
                          np.asarray(pred['scores']).reshape(-1))
        path = osp.join(out_dir, img + '.xml')
        tree.write(path, encoding='utf-8', xml_declaration=True)
        paths.append(path)
    if make_zip:
        folder = osp.basename(out_dir)
        with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as zf:
            for path in paths:
                zf.write(path, osp.join(folder, osp.basename(path)))
    return paths


@METRICS.register_module()
class FAIR1MMetric(DOTAMetric):
    """FAIR1M: mAP on labelled patches, or the leaderboard's XML files.

    SkySense Table 2b reports FAIR1M mAP (54.57) from the official leaderboard-v2.0;
    this metric writes what that server takes. Two modes:

    * ``format_only=False`` (labelled split, e.g. the validation patches): mmrotate's
      :class:`~mmrotate.evaluation.DOTAMetric` mAP over the patches (``iou_thrs``,
      ``eval_mode``, ``predict_box_type`` as there). ``merge_patches`` must then be
      left unset: whole-image ground truth is not in the patch dataset.
    * ``format_only=True`` (the unlabelled test split): no evaluation, the ground
      truth is neither needed nor read. The patch predictions are merged to whole
      images (``merge_patches``, default True: shift + class-wise rotated NMS at
      ``iou_thr``, see :func:`merge_patch_predictions`) and written as FAIR1M XML
      files ``<outfile_prefix>/<image>.xml`` (one per image, even without
      detections) plus ``<outfile_prefix>.zip`` (``make_zip``). ``outfile_prefix``
      must be a new or empty folder.

    Args:
        format_only (bool): Write the submission instead of evaluating.
        outfile_prefix (str, optional): Submission folder (required with
            ``format_only``), e.g. ``work_dirs/fair1m/submission/test``.
        merge_patches (bool, optional): Merge patch predictions per image; only
            with ``format_only`` (default True there).
        img_suffix (str): Extension of the test images, written in
            ``<source><filename>``. Defaults to ``'.tif'`` (FAIR1M's).
        make_zip (bool): Also write ``<outfile_prefix>.zip``. Defaults to True.
        **kwargs: ``iou_thrs``, ``scale_ranges``, ``metric``, ``predict_box_type``,
            ``iou_thr`` (NMS of the merge), ``eval_mode``, ``collect_device``,
            ``prefix`` of ``DOTAMetric``.
    """

    default_prefix: Optional[str] = 'fair1m'

    def __init__(self,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 merge_patches: Optional[bool] = None,
                 img_suffix: str = '.tif',
                 make_zip: bool = True,
                 **kwargs) -> None:
        if format_only and not outfile_prefix:
            raise ValueError('FAIR1MMetric: format_only=True needs `outfile_prefix` '
                             '(the folder of the XML files), e.g. '
                             "test_evaluator = dict(type='eofm.FAIR1MMetric', "
                             "format_only=True, outfile_prefix='work_dirs/fair1m/"
                             "submission/test').")
        if merge_patches and not format_only:
            raise ValueError('FAIR1MMetric: merge_patches=True needs format_only=True '
                             '(mAP is computed on the labelled patches; set '
                             '`format_only=True, outfile_prefix=...` in the evaluator '
                             'to write the merged submission).')
        # DOTAMetric's own merge writes DOTA Task1 txt files: never used here.
        super().__init__(
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            merge_patches=False,
            **kwargs)
        self.merge_to_images = format_only if merge_patches is None else merge_patches
        self.img_suffix = img_suffix
        self.make_zip = make_zip

    def process(self, data_batch: Sequence[dict], data_samples: Sequence[dict]) -> None:
        """DOTAMetric's, except that ``format_only`` keeps only the predictions."""
        if not self.format_only:
            return super().process(data_batch, data_samples)
        for sample in data_samples:
            pred = sample['pred_instances']
            self.results.append(({},
                                 dict(
                                     img_id=sample['img_id'],
                                     bboxes=pred['bboxes'].cpu().numpy(),
                                     scores=pred['scores'].cpu().numpy(),
                                     labels=pred['labels'].cpu().numpy())))

    def compute_metrics(self, results: list) -> dict:
        if not self.format_only:
            return super().compute_metrics(results)
        logger: MMLogger = MMLogger.get_current_instance()
        preds = [pred for _, pred in results]
        if self.merge_to_images:
            images = merge_patch_predictions(preds, self.iou_thr, self.predict_box_type)
        else:
            images = OrderedDict((str(p['img_id']), p) for p in preds)
        paths = write_fair1m_submission(images, self.dataset_meta['classes'],
                                        self.outfile_prefix, self.img_suffix,
                                        self.predict_box_type, self.make_zip)
        logger.info(
            f'FAIR1M submission: {len(paths)} XML files in '
            f'{osp.normpath(self.outfile_prefix)}' +
            (f' and {osp.normpath(self.outfile_prefix)}.zip' if self.make_zip else ''))
        return {}
