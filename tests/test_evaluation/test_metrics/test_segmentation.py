"""Segmentation-side metrics and glue against hand-computed values: SCS over monthly
series, IoU without some classes, OA per fold and pooled over runs, seg sample
conversion, RenameModality."""
import json

import numpy as np
import pytest
import torch

from eofm.registry import METRICS, TRANSFORMS


def _seg_sample(sample_id, gt, pred, **meta):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    s = SegDataSample(metainfo=dict(sample_id=sample_id, **meta))
    s.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    return s.to_dict()


def test_scs_over_monthly_series_equals_the_pairs():
    gt0, gt1, gt2 = [0, 0, 1, 1], [0, 1, 1, 2], [0, 1, 2, 2]
    pr0, pr1, pr2 = [0, 0, 1, 1], [0, 1, 1, 1], [1, 1, 2, 2]
    series = METRICS.build(
        dict(type='eofm.SemanticChangeMetric', num_classes=3, series=True))
    # out of order and interleaved with another area of one month (no pair)
    series.process(None, [
        _seg_sample('A_2018-03', gt2, pr2),
        _seg_sample('B_2018-01', gt0, pr0),
        _seg_sample('A_2018-01', gt0, pr0),
        _seg_sample('A_2018-02', gt1, pr1),
    ])
    pairs = METRICS.build(dict(type='eofm.SemanticChangeMetric', num_classes=3))
    for g0, g, p0, p in ((gt0, gt1, pr0, pr1), (gt1, gt2, pr1, pr2)):
        pairs.process(None, [
            dict(
                gt_seg_map_prev=np.array(g0),
                gt_seg_map=np.array(g),
                pred_seg_map_prev=np.array(p0),
                pred_seg_map=np.array(p))
        ])
    a, b = series.evaluate(4), pairs.evaluate(2)
    assert a == pytest.approx(b)
    # By hand: Jan->Feb gt changes at 1, 3; pred at 1 -> tp 1, fn 1.
    # Feb->Mar gt changes at 2; pred at 0, 2, 3 -> tp 1, fp 2. BC = 2 / 5.
    assert a['semantic_change/bc'] == pytest.approx(2 / 5)
    # changed gt pixels: (gt 1, pred 1), (gt 2, pred 1), (gt 2, pred 2)
    # IoU: class 1: 1/2, class 2: 1/2 -> SC = 1/2
    assert a['semantic_change/sc'] == pytest.approx(0.5)
    with pytest.raises(ValueError, match='<series>_<time>'):
        series.process(None, [_seg_sample('nounderscore', gt0, pr0)])


def test_class_subset_iou_drops_clutter():
    metric = METRICS.build(
        dict(
            type='eofm.ClassSubsetIoUMetric',
            exclude_classes=['clutter'],
            iou_metrics=['mIoU', 'mFscore']))
    metric.dataset_meta = dict(classes=('a', 'b', 'clutter'))
    gt = np.array([[0, 0, 1, 1, 2, 2]])
    pred = np.array([[0, 2, 1, 1, 2, 0]])
    metric.process([], [_seg_sample('x', gt, pred)])
    out = metric.evaluate(1)
    # a: tp 1, gt 2, pred 2 -> IoU 1/3; b: tp 2, gt 2, pred 2 -> IoU 1
    assert out['mIoU'] == pytest.approx(100 * (1 / 3 + 1) / 2, abs=0.01)
    # F1 a = 0.5, b = 1
    assert out['mFscore'] == pytest.approx(75.0, abs=0.01)
    # aAcc over the pixels of a and b: 3 of 4
    assert out['aAcc'] == pytest.approx(75.0, abs=0.01)
    metric.exclude_classes = ('nope', )
    metric.process([], [_seg_sample('x', gt, pred)])
    with pytest.raises(ValueError, match='nope'):
        metric.evaluate(1)


def test_fold_accuracy_and_merging_runs(tmp_path):
    from tools.analysis_tools.merge_fold_results import main as merge
    files = []
    for fold, (gt, pred) in {
            1: ([0, 1, 1, 19], [0, 1, 0, 5]),
            2: ([2, 2], [2, 2])
    }.items():
        out = tmp_path / f'run{fold}.json'
        metric = METRICS.build(
            dict(type='eofm.FoldAccuracyMetric', num_classes=3, out_file=str(out)))
        metric.process(None, [_seg_sample(f'p{fold}', [gt], [pred], fold=fold)])
        scores = metric.evaluate(1)
        files.append(str(out))
    # fold 1: 2 of 3 valid pixels right (19 is ignored); fold 2: 2 of 2
    assert json.loads(open(files[0]).read())['confusions']['1'] == [[1, 0,
                                                                     0], [1, 1, 0],
                                                                    [0, 0, 0]]
    assert scores['fold/fold2/OA'] == pytest.approx(100.0)
    pooled = merge(files)
    assert pooled['OA'] == pytest.approx(100 * 4 / 5)
    assert pooled['fold1/OA'] == pytest.approx(100 * 2 / 3)
    assert pooled['mean_fold_OA'] == pytest.approx(100 * (2 / 3 + 1) / 2)
    with pytest.raises(SystemExit, match='fold 1 is also in'):
        merge([files[0], files[0]])
    metric = METRICS.build(dict(type='eofm.FoldAccuracyMetric', num_classes=3))
    with pytest.raises(KeyError, match="meta_keys"):
        metric.process(None, [_seg_sample('p', [[0]], [[0]])])


def test_seg_task_conversion_and_rename_modality():
    from eofm.models import MultiModalDataPreprocessor
    from eofm.structures import MultiModalDataSample
    s = MultiModalDataSample(metainfo=dict(sample_id='t0'))
    s.gt_seg_map = torch.arange(12).view(3, 4)
    data = dict(
        inputs=[dict(hr=torch.ones(3, 3, 4), s2=torch.ones(2, 10, 3, 4))],
        data_samples=[s])
    out = MultiModalDataPreprocessor(task='seg', tensor_input='hr')(data)
    assert out['inputs'].shape == (1, 3, 3, 4)
    seg = out['data_samples'][0]
    assert seg.gt_sem_seg.data.shape == (1, 3, 4)
    assert seg.img_shape == seg.ori_shape == (3, 4) and seg.sample_id == 't0'
    # an unlabelled sample (for predict) is shaped like the finest grid of the batch
    unlabelled = MultiModalDataPreprocessor(task='seg')(
        dict(inputs=data['inputs'], data_samples=[MultiModalDataSample()]))
    seg = unlabelled['data_samples'][0]
    assert seg.img_shape == (3, 4) and 'gt_sem_seg' not in seg
    with pytest.raises(ValueError, match='task'):
        MultiModalDataPreprocessor(task='det')

    results = dict(
        planet=np.arange(2 * 4 * 2 * 2).reshape(2, 4, 2, 2).astype(np.float32),
        planet_mask=np.ones((2, 2, 2), bool),
        planet_doy=np.array([5, 9]),
        planet_dates=['2018-01-05', '2018-01-09'],
        modalities_present=['planet'])
    out = TRANSFORMS.build(
        dict(type='eofm.RenameModality', src='planet', dst='hr', date=-1))(
            results)
    assert out['hr'].shape == (4, 2, 2) and out['hr'][0, 0, 0] == 16
    assert out['hr_mask'].shape == (2, 2) and out['hr_dates'] == ['2018-01-09']
    assert 'planet' not in out and 'hr_doy' not in out
    assert out['modalities_present'] == ['hr']
    with pytest.raises(ValueError, match='dated'):
        TRANSFORMS.build(dict(type='eofm.RenameModality', src='hr', dst='x', date=0))(
            out)
