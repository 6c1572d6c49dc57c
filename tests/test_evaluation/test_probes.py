"""Frozen-feature probes: exact accuracies on features of known separability,
stratified label fractions, bootstrap intervals, and the resumable probe run."""
import csv

import numpy as np
import pytest
import torch

from eofm.evaluation.probes import (bootstrap_ci, fit_linear_probe, knn_predict,
                                    stratified_fraction)


def test_knn_weighted_votes_give_known_predictions():
    # class 0 along +x, class 1 along +y; cosine similarity decides
    train_x = torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    train_y = torch.tensor([0, 0, 1, 1])
    test_x = torch.tensor([[1.0, 0.05], [0.05, 1.0], [1.0, 0.9], [0.9, 1.0]])
    pred = knn_predict(train_x, train_y, test_x, num_classes=2, k=4, temperature=0.07)
    assert pred.tolist() == [0, 1, 0, 1]
    # with k=1 only the nearest votes: a class-1 test point closest to a class-0 one
    pred = knn_predict(train_x, train_y, torch.tensor([[1.0, 0.3]]), 2, k=1)
    assert pred.tolist() == [0]
    # temperature-weighted: one very similar neighbour outvotes two far ones
    train_x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-0.2, 1.0]])
    train_y = torch.tensor([0, 1, 1])
    x = torch.tensor([[1.0, 0.02]])
    assert knn_predict(train_x, train_y, x, 2, k=3, temperature=0.07).tolist() == [0]


def test_linear_probe_separable_and_chance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 8, generator=g)
    score = x[:, 0] + 0.5 * x[:, 1]
    x = x[score.abs() > 0.5][:200]  # a margin between the classes
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    probe = fit_linear_probe(x[:150], y[:150], 2)
    assert (probe.predict(x[150:]) == y[150:]).float().mean() == 1.0
    assert probe.weight_decay in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)
    # labels independent of the features: no better than chance on held-out data
    y_rand = torch.randint(0, 2, (200, ), generator=g)
    acc = (fit_linear_probe(x[:150], y_rand[:150], 2).predict(x[150:]) ==
           y_rand[150:]).float().mean()
    assert acc < 0.7


def test_linear_probe_validates_on_whole_held_out_groups(monkeypatch):
    """With groups (the tiles of pixels) the L2 strength is chosen by k-fold over
    whole groups: no fold trains on a sample of a group it scores."""
    from eofm.evaluation import probes
    n, num_groups = 60, 7
    groups = np.arange(n) % num_groups
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    x[:, 0] = torch.arange(n, dtype=torch.float32)  # the sample index, to trace rows
    y = (x[:, 1] > 0).long()
    mean, std = x[:, 0].mean(), x[:, 0].std(unbiased=False)
    fits = []
    real = probes._train_logreg

    def spy(xs, ys, num_classes, wd, max_iter):
        fits.append((wd, set((xs[:, 0] * std + mean).round().long().tolist())))
        return real(xs, ys, num_classes, wd, max_iter)

    monkeypatch.setattr(probes, '_train_logreg', spy)
    wds = (1e-3, 1e-1)
    probe = fit_linear_probe(x, y, 2, weight_decays=wds, groups=groups)
    *cv, final = fits
    assert final[1] == set(range(n)) and final[0] == probe.weight_decay
    assert len(cv) == 2 * 5  # min(5, 7 groups) folds per strength
    for wd in wds:
        held = [set(range(n)) - rows for w, rows in cv if w == wd]
        assert sorted(i for h in held for i in h) == list(range(n))  # each once
        for h in held:  # whole groups: a held-out group has no sample in training
            assert {i for i in range(n) if groups[i] in {groups[j] for j in h}} == h
    # one group: nothing to hold out, the first strength without validation
    fits.clear()
    probe = fit_linear_probe(x, y, 2, weight_decays=wds, groups=np.zeros(n, int))
    assert len(fits) == 1 and probe.weight_decay == wds[0]
    # without groups: one stratified split of samples, as before
    fits.clear()
    fit_linear_probe(x, y, 2, weight_decays=wds)
    assert len(fits) == 3
    with pytest.raises(ValueError, match=r'groups must be \(60,\)'):
        fit_linear_probe(x, y, 2, groups=groups[:10])


def test_stratified_fraction_keeps_class_shares():
    labels = np.array([0] * 100 + [1] * 20 + [2] * 3)
    idx = stratified_fraction(labels, 0.1, seed=0)
    assert np.bincount(labels[idx]).tolist() == [10, 2, 1]  # at least one per class
    assert np.array_equal(idx, np.sort(idx))
    assert not np.array_equal(idx, stratified_fraction(labels, 0.1, seed=1))
    assert np.array_equal(idx, stratified_fraction(labels, 0.1, seed=0))
    assert len(stratified_fraction(labels, 1.0)) == len(labels)
    with pytest.raises(ValueError, match='fraction'):
        stratified_fraction(labels, 0)


def test_bootstrap_interval_contains_the_estimate_and_groups_widen_it():
    rng = np.random.default_rng(0)
    correct = (rng.random(400) < 0.7).astype(float)
    lo, hi = bootstrap_ci(correct)
    assert lo < correct.mean() < hi and hi - lo < 0.15
    # pixels of one tile all right or all wrong: resampling tiles widens the interval
    groups = np.repeat(np.arange(20), 20)
    tiles = np.repeat(rng.random(20) < 0.7, 20).astype(float)
    glo, ghi = bootstrap_ci(tiles, groups=groups)
    plo, phi = bootstrap_ci(tiles)
    assert glo <= tiles.mean() <= ghi and ghi - glo > 2 * (phi - plo)


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    from eofm.datasets.sample_data import generate
    root = tmp_path_factory.mktemp('sample')
    generate(str(root), num_tiles=16, seed=0)
    return str(root)


@pytest.mark.slow
def test_probe_run_resumes_and_plots(sample_root, tmp_path, repo_root):
    import os.path as osp

    from eofm.apis.probe import PROBE_COLUMNS, plot_probe_results, run_probe
    config = osp.join(repo_root, 'configs', 'skysense',
                      'skysense-pretrain_tiny_2xb4-150it_eofm-sample-192px.py')
    dataset = osp.join(repo_root, 'configs', '_base_', 'datasets', 'eofm_sample.py')
    out = str(tmp_path / 'probe.csv')
    kw = dict(fractions=(0.25, 1.0), seeds=(0, ), data_root=sample_root, progress=False)
    rows = run_probe(config, None, dataset, out, label='random', **kw)
    assert len(rows) == 2 * 2 * 2  # levels x probes x fractions
    for r in rows:
        assert float(r['ci_low']) <= float(r['accuracy']) <= float(r['ci_high'])
        assert r['checkpoint'] == 'random-init-seed0'
    again = run_probe(config, None, dataset, out, label='random', **kw)
    with open(out) as f:
        on_disk = list(csv.DictReader(f))
    assert len(again) == len(on_disk) == len(rows)  # nothing added on a rerun
    assert list(on_disk[0]) == list(PROBE_COLUMNS)
    more = run_probe(config, None, dataset, out, label='random',
                     **dict(kw, seeds=(0, 1)))
    assert len(more) == 2 * len(rows)  # only the new seed, from cached features
    # one modality's encoder features (an ablation): new rows, summarised apart
    from eofm.apis.probe import summarize
    s2 = run_probe(config, None, dataset, out, label='random', feature='s2', **kw)
    assert len(s2) == len(more) + len(rows)
    assert {r['feature'] for r in s2} == {'default', 's2'}
    keys = {m for m, _, _ in summarize(s2)}
    assert keys == {'random', 'random [s2]'}
    # bf16 extraction: rows of their own (a CSV column and the cache key), read apart
    # by summarize, close to the fp32 ones
    bf = run_probe(config, None, dataset, out, label='random', precision='bf16', **kw)
    new = [r for r in bf if r['precision'] == 'bf16']
    assert len(new) == len(rows) and len(bf) == len(s2) + len(rows)
    assert {r['precision'] for r in bf} == {'fp32', 'bf16'}
    summary = summarize(bf)
    assert {m for m, _, _ in summary} == {'random', 'random [s2]', 'random [bf16]'}
    for (m, lv, pr), per in summary.items():
        if m == 'random [bf16]' and lv == 'pixel':  # (the tile level has 4 tiles)
            for f, (a, _, _) in per.items():
                assert abs(a - summary['random', lv, pr][f][0]) < 0.05
    from eofm.apis.probe import ProbeError
    with pytest.raises(ProbeError, match="precision: precision='fp16' is for GPUs"):
        run_probe(config, None, dataset, out, precision='fp16', **kw)
    png = plot_probe_results(more, str(tmp_path / 'probe.png'))
    assert open(png, 'rb').read(8) == b'\x89PNG\r\n\x1a\n'


def test_named_features_and_their_errors():
    import torch

    from eofm.apis.features import model_features

    class Named(torch.nn.Module):
        def named_features(self, inputs):
            return dict(a=inputs * 2, b=inputs + 1)

        def extract_feat(self, inputs):
            return inputs

    x = torch.ones(1, 3, 2, 2)
    assert torch.equal(model_features(Named(), x), x)
    assert torch.equal(model_features(Named(), x, 'b'), x + 1)
    with pytest.raises(TypeError, match=r"no feature 'c'; it has \['a', 'b'\]"):
        model_features(Named(), x, 'c')
    with pytest.raises(TypeError, match='needs a model with named_features'):
        model_features(torch.nn.Identity(), x, 'a')


def test_csv_from_before_feature_names_reads_as_default(tmp_path):
    """A file from before the feature and precision columns: default features, fp32."""
    from eofm.apis.probe import PROBE_COLUMNS, _read_rows
    old = [c for c in PROBE_COLUMNS if c not in ('feature', 'precision')]
    path = tmp_path / 'old.csv'
    with open(path, 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=old)
        w.writeheader()
        w.writerow({c: '1' for c in old})
    (row, ) = _read_rows(str(path))
    assert row['feature'] == 'default' and set(row) == set(PROBE_COLUMNS)
    assert row['precision'] == 'fp32'


@pytest.mark.parametrize('config, dataset, grid, levels', [
    # msGFM: hr / s2 / s1 last-stage maps (tiny preset: 256 channels each) on the
    # 8 x 8 grid of a 256 px HR tile (stride 32)
    ('msgfm/msgfm-pretrain_swin-tiny_1xb4-100it_eofm-sample-192px.py',
     'eofm_sample_msgfm-probe.py', (3 * 256, 8, 8), ('tile', 'pixel')),
    # OmniSat: the combiner's patch tokens (d = 64) on the 6 x 6 grid of 60 m
    ('omnisat/omnisat-pretrain_small_1xb4-100it_eofm-sample-60m.py',
     'eofm_sample_omnisat-probe-60m.py', (64, 6, 6), ('pixel', )),
    # AnySat: the target encoder's patch tokens (tiny: 64) on 16 x 16 patches of
    # 20 m over the whole 320 m tile
    ('anysat/anysat-jepa_tiny_1xb4-100it_eofm-sample-160m.py',
     'eofm_sample_anysat-probe.py', (64, 16, 16), ('tile', 'pixel')),
])
def test_probe_runs_on_every_cpu_pretraining_config(sample_root, tmp_path, repo_root,
                                                     config, dataset, grid, levels):
    """The probe tool on msGFM, OmniSat and AnySat pretraining configs: the
    features the probes read (their probe_features) and a full run's rows."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from eofm.apis.probe import extract_probe_features, run_probe
    from eofm.registry import DATASETS, MODELS
    config = osp.join(repo_root, 'configs', config)
    dataset = osp.join(repo_root, 'configs', '_base_', 'datasets', dataset)
    ds_cfg = Config.fromfile(dataset).val_dataloader.dataset
    ds_cfg.update(data_root=sample_root)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('eofm'):
        model = MODELS.build(Config.fromfile(config).model)
        ds = DATASETS.build(ds_cfg)
    feats = extract_probe_features(model, ds, batch_size=2, pixels_per_tile=10 ** 6,
                                   progress=False)
    n, (d, h, w) = len(ds), grid
    assert feats['tile_x'].shape == (n, d)
    assert feats['pixel_x'].shape == (n * h * w, d)  # every cell of every tile
    assert np.isfinite(feats['pixel_x']).all() and feats['pixel_x'].std(0).min() > 0
    rows = run_probe(config, None, dataset, str(tmp_path / 'p.csv'), label='random',
                     fractions=(1.0, ), seeds=(0, ), levels=levels, data_root=sample_root,
                     progress=False)
    assert len(rows) == len(levels) * 2
    assert all(0 <= float(r['accuracy']) <= 1 for r in rows)
