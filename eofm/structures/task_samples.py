"""Turn eofm's :class:`MultiModalDataSample` into the host libraries' data samples.

eofm's multi-modal datasets pack one sample type for every task; mmseg's segmentors
and metrics read ``SegDataSample.gt_sem_seg`` and the image shapes in the metainfo,
mmpretrain's classifiers and metrics read ``DataSample.gt_label`` / ``gt_score``. The
:class:`eofm.MultiModalDataPreprocessor` applies these conversions (its ``task``
argument) so that a multi-modal batch feeds mmseg's ``EncoderDecoder`` and mmpretrain's
``ImageClassifier`` unchanged.
"""
__all__ = ['to_seg_data_sample', 'to_cls_data_sample', 'TASK_SAMPLE_CONVERTERS']


def _meta(sample):
    return dict(sample.metainfo) if hasattr(sample, 'metainfo') else {}


def to_seg_data_sample(sample, shape=None):
    """mmseg ``SegDataSample``: ``gt_sem_seg`` (1, H, W) from ``gt_seg_map`` and
    ``img_shape`` / ``ori_shape`` / ``pad_shape`` = (H, W) of the label map (the
    grid the segmentor predicts on); the geo-metadata stay in the metainfo.

    A sample without ``gt_seg_map`` (unlabelled data, for ``predict``) gets no
    ``gt_sem_seg`` and the shapes of ``shape`` (H, W): the grid to predict on,
    which the data preprocessor gives.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    if 'gt_seg_map' in sample:
        seg = sample.gt_seg_map
        shape = tuple(seg.shape[-2:])
    elif shape is None:
        raise KeyError(f'task="seg": sample {_meta(sample).get("sample_id")} has no '
                       f'gt_seg_map (fields {sorted(sample.keys())}) and no grid to '
                       'predict on was given (shape=(H, W)); add label_maps='
                       'dict(gt_seg_map=...) to LoadMultiModalTiles for training')
    shape = tuple(int(v) for v in shape)
    out = SegDataSample(
        metainfo=dict(_meta(sample), img_shape=shape, ori_shape=shape, pad_shape=shape))
    if 'gt_seg_map' in sample:
        out.gt_sem_seg = PixelData(data=seg.view(1, *shape))
    return out


def to_cls_data_sample(sample, shape=None):
    """mmpretrain ``DataSample``: ``gt_label`` from a class id, ``gt_score`` from a
    multi-hot ``gt_labels`` vector (multi-label heads and metrics read it); a sample
    without labels (unlabelled data, for ``predict``) keeps only its metainfo.
    ``shape`` is accepted for symmetry with :func:`to_seg_data_sample`."""
    from mmpretrain.structures import DataSample
    out = DataSample(metainfo=_meta(sample))
    if 'gt_label' in sample:
        out.set_gt_label(sample.gt_label.view(-1))
    elif 'gt_labels' in sample:
        scores = sample.gt_labels.float().view(-1)
        out.set_gt_score(scores)
        out.set_gt_label(scores.nonzero().view(-1))
    return out


TASK_SAMPLE_CONVERTERS = dict(seg=to_seg_data_sample, cls=to_cls_data_sample)
