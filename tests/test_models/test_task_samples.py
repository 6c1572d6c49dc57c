"""MultiModalDataPreprocessor(task='cls') hands mmpretrain's DataSample to the heads
and metrics: single labels as ``gt_label``, multi-hot labels as ``gt_score``."""
import pytest
import torch

from eofm.models import MultiModalDataPreprocessor
from eofm.structures import MultiModalDataSample


def _batch(samples):
    inputs = [dict(s2=torch.ones(10, 4, 4), s1=torch.ones(2, 4, 4)) for _ in samples]
    return dict(inputs=inputs, data_samples=samples)


def test_cls_task_single_and_multi_label():
    from mmpretrain.evaluation import Accuracy, AveragePrecision
    from mmpretrain.structures import DataSample
    single = []
    for i, label in enumerate((3, 0)):
        s = MultiModalDataSample(metainfo=dict(sample_id=f'p{i}'))
        s.gt_label = torch.tensor(label)
        single.append(s)
    out = MultiModalDataPreprocessor(task='cls')(_batch(single))
    assert set(out['inputs']) >= {'s2', 's1', 's2_present'}
    conv = out['data_samples']
    assert all(type(s) is DataSample for s in conv)
    assert [s.gt_label.tolist() for s in conv] == [[3], [0]]
    assert 'gt_score' not in conv[0] and conv[1].sample_id == 'p1'

    multi = MultiModalDataSample(metainfo=dict(sample_id='ben'))
    multi.gt_labels = torch.tensor([0, 1, 0, 0, 1], dtype=torch.float32)
    none = MultiModalDataSample()
    none.gt_labels = torch.zeros(5)
    conv = MultiModalDataPreprocessor(task='cls')(_batch([multi, none]))['data_samples']
    assert torch.equal(conv[0].gt_score, multi.gt_labels)
    assert conv[0].gt_label.tolist() == [1, 4] and conv[0].sample_id == 'ben'
    assert conv[1].gt_label.numel() == 0 and conv[1].gt_score.sum() == 0

    # mmpretrain's metrics read them as they are
    conv[0].set_pred_score(torch.tensor([0.1, 0.9, 0.2, 0.3, 0.8]))
    conv[1].set_pred_score(torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5]))
    ap = AveragePrecision()
    ap.process(None, [s.to_dict() for s in conv])
    assert ap.evaluate(2)['multi-label/mAP'] == pytest.approx(100 * 2 / 5)
    single = MultiModalDataPreprocessor(task='cls')(_batch(single))['data_samples']
    for s, score in zip(single, ([0, 0, 0, 1.0], [0, 1.0, 0, 0])):
        s.set_pred_score(torch.tensor(score))
    acc = Accuracy()
    acc.process(None, [s.to_dict() for s in single])
    assert acc.evaluate(2)['accuracy/top1'] == 50.0


def test_cls_task_needs_a_label():
    with pytest.raises(KeyError, match='gt_label or gt_labels'):
        MultiModalDataPreprocessor(task='cls')(_batch([MultiModalDataSample()]))
    # without a task the eofm samples pass through
    s = MultiModalDataSample()
    s.gt_label = torch.tensor(1)
    out = MultiModalDataPreprocessor()(_batch([s]))
    assert type(out['data_samples'][0]) is MultiModalDataSample
