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


def test_cls_task_unlabelled_samples_keep_their_metainfo():
    # unlabelled data (a scene to map) reach the classifier's predict
    conv = MultiModalDataPreprocessor(task='cls')(_batch(
        [MultiModalDataSample(metainfo=dict(sample_id='u'))]))['data_samples']
    assert conv[0].sample_id == 'u' and 'gt_label' not in conv[0]
    # without a task the eofm samples pass through
    s = MultiModalDataSample()
    s.gt_label = torch.tensor(1)
    out = MultiModalDataPreprocessor()(_batch([s]))
    assert type(out['data_samples'][0]) is MultiModalDataSample


def _seg_model():
    from mmengine.config import ConfigDict
    from mmengine.registry import MODELS as ROOT_MODELS
    from mmengine.registry import DefaultScope
    import mmseg.models  # noqa: F401 - registers EncoderDecoder and the heads
    cfg = dict(
        type='mmseg.EncoderDecoder',
        data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', task='seg',
                               tensor_input='s2'),
        backbone=dict(type='eofm.SimpleConvNet', in_channels=10, channels=(8, 8)),
        test_cfg=ConfigDict(mode='whole'),
        decode_head=dict(type='mmseg.FCNHead', in_channels=8, channels=8, num_convs=1,
                         num_classes=3, concat_input=False,
                         norm_cfg=dict(type='BN')))
    with DefaultScope.overwrite_default_scope('mmseg'):
        return ROOT_MODELS.build(cfg).eval()


def test_seg_task_predicts_on_unlabelled_samples():
    """An unlabelled sample goes through the segmentor's predict; its map is on the
    grid of the predicted modality, and a labelled one is unchanged."""
    from mmengine.registry import DefaultScope
    torch.manual_seed(0)
    model = _seg_model()
    unlabelled = MultiModalDataSample(metainfo=dict(sample_id='scene-7'))
    batch = dict(inputs=[dict(s2=torch.randn(10, 16, 16))], data_samples=[unlabelled])
    with DefaultScope.overwrite_default_scope('mmseg'), torch.no_grad():
        data = model.data_preprocessor(batch, False)
        assert data['data_samples'][0].img_shape == (16, 16)
        assert 'gt_sem_seg' not in data['data_samples'][0]
        pred = model(**data, mode='predict')[0]
    assert pred.pred_sem_seg.data.shape == (1, 16, 16)
    assert pred.sample_id == 'scene-7'
    labelled = MultiModalDataSample()
    labelled.gt_seg_map = torch.zeros(16, 16, dtype=torch.long)
    with DefaultScope.overwrite_default_scope('mmseg'):
        conv = model.data_preprocessor(dict(inputs=batch['inputs'],
                                            data_samples=[labelled]))['data_samples']
    assert conv[0].gt_sem_seg.data.shape == (1, 16, 16)


def test_seg_predict_grid_and_its_errors():
    from eofm.structures import to_seg_data_sample
    with pytest.raises(KeyError, match='no gt_seg_map.*no grid to predict on'):
        to_seg_data_sample(MultiModalDataSample(metainfo=dict(sample_id='x')))
    prep = MultiModalDataPreprocessor(task='seg')  # finest grid of the batch
    batch = dict(inputs=[dict(hr=torch.ones(3, 32, 32), s2=torch.ones(2, 10, 8, 8))],
                 data_samples=[MultiModalDataSample()])
    assert prep(batch)['data_samples'][0].img_shape == (32, 32)
    prep = MultiModalDataPreprocessor(task='seg', predict_grid='s2')
    assert prep(batch)['data_samples'][0].img_shape == (8, 8)
    with pytest.raises(KeyError, match="predict_grid 's1' is not in the batch"):
        MultiModalDataPreprocessor(task='seg', predict_grid='s1')(batch)
