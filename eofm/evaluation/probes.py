"""Frozen-feature probes: k-NN and linear classifiers, label fractions, bootstrap CIs.

The protocol of the public foundation-model benchmarks on fixed features:

* :func:`knn_predict`: cosine-similarity k-NN with DINO's temperature-weighted
  votes (Caron et al. 2021, Sec. 4.1 / their ``eval_knn.py``: the ``k`` nearest
  training features vote for their class with weight ``exp(sim / T)``; k = 20,
  T = 0.07);
* :func:`fit_linear_probe`: multinomial logistic regression on standardised
  features, full batch with L-BFGS, the L2 strength picked on a validation split
  carved (stratified) out of the training features, or, for pixels, by k-fold
  cross-validation over whole training tiles (a tile's pixels are correlated);
* :func:`stratified_fraction`: a label fraction of the training set, the same share
  of every class (at least one sample each), seeded;
* :func:`bootstrap_ci`: percentile bootstrap of the accuracy over test samples.

No scikit-learn here (not a dependency of the stack): everything is a few lines of
torch, deterministic for a given seed.
"""
import io
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    'knn_predict', 'fit_linear_probe', 'stratified_fraction', 'bootstrap_ci',
    'accuracy', 'probe_features', 'summarize', 'plot_probe_results'
]


def _check(x, y, what):
    if x.dim() != 2 or y.dim() != 1 or len(x) != len(y):
        raise ValueError(f'{what}: features must be (N, D) and labels (N,), got '
                         f'{tuple(x.shape)} and {tuple(y.shape)}')
    if len(x) == 0:
        raise ValueError(f'{what}: no samples')


@torch.no_grad()
def knn_predict(train_x, train_y, test_x, num_classes, k=20, temperature=0.07,
                chunk=4096):
    """Class predictions (N_test,) of DINO's weighted k-NN on cosine similarity."""
    _check(train_x, train_y, 'knn_predict')
    train = F.normalize(train_x.float(), dim=1)
    k = min(k, len(train))
    preds = []
    for part in F.normalize(test_x.float(), dim=1).split(chunk):
        sim, idx = (part @ train.t()).topk(k, dim=1)
        votes = torch.zeros(len(part), num_classes, dtype=sim.dtype)
        votes.scatter_add_(1, train_y[idx], (sim / temperature).exp())
        preds.append(votes.argmax(1))
    return torch.cat(preds)


def _train_logreg(x, y, num_classes, weight_decay, max_iter):
    torch.manual_seed(0)
    layer = torch.nn.Linear(x.shape[1], num_classes)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.LBFGS(layer.parameters(), lr=1, max_iter=max_iter,
                            history_size=20, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(layer(x), y) + weight_decay * layer.weight.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return layer


class LinearProbe:
    """A fitted probe: standardisation + linear layer (see :func:`fit_linear_probe`)."""

    def __init__(self, mean, std, layer, weight_decay):
        self.mean, self.std, self.layer = mean, std, layer
        self.weight_decay = weight_decay

    @torch.no_grad()
    def predict(self, x):
        return self.layer((x.float() - self.mean) / self.std).argmax(1)


def fit_linear_probe(train_x, train_y, num_classes,
                     weight_decays: Sequence[float] = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1),
                     val_fraction=0.2, seed=0, max_iter=200,
                     groups: Optional[np.ndarray] = None) -> LinearProbe:
    """Logistic regression with the L2 strength chosen on held-out samples.

    Without ``groups`` the validation split is a stratified ``val_fraction`` of the
    training samples (classes with a single sample stay in training). With
    ``groups`` (e.g. the tile of each pixel) the samples of a group are correlated,
    so that a split of samples would validate on the training tiles' own pixels and
    pick the weakest regularisation: the strength is then chosen by group k-fold
    cross-validation, ``min(5, n_groups)`` folds of whole groups (accuracy over all
    held-out samples). With nothing to validate on (fewer than two samples left for
    validation, or a single group) the first strength is taken. The chosen strength
    is refitted on all training samples.
    """
    _check(train_x, train_y, 'fit_linear_probe')
    x = train_x.float()
    y = train_y.long()
    mean, std = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-6)
    xs = (x - mean) / std
    weight_decays = list(weight_decays)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape != (len(y), ):
            raise ValueError(f'fit_linear_probe: groups must be ({len(y)},), got '
                             f'{groups.shape}')
        ids = np.random.default_rng(seed).permutation(np.unique(groups))
        folds = [np.isin(groups, f) for f in np.array_split(ids, min(5, len(ids)))]
    else:
        val = stratified_fraction(y, val_fraction, seed, keep_one_per_class=False)
        held = np.zeros(len(y), dtype=bool)
        held[val] = True
        folds = [held]
    folds = [f for f in folds if 2 <= f.sum() <= len(y) - 2]
    best = weight_decays[0]
    if len(weight_decays) > 1 and folds:
        scores = []
        for wd in weight_decays:
            correct = 0.0
            for held in folds:
                held_t = torch.from_numpy(held)
                layer = _train_logreg(xs[~held_t], y[~held_t], num_classes, wd, max_iter)
                with torch.no_grad():
                    correct += float((layer(xs[held_t]).argmax(1) == y[held_t]).sum())
            scores.append(correct)
        best = weight_decays[int(np.argmax(scores))]
    layer = _train_logreg(xs, y, num_classes, best, max_iter)
    return LinearProbe(mean, std, layer, best)


def stratified_fraction(labels, fraction, seed=0, keep_one_per_class=True):
    """Sorted indices of ``fraction`` of the samples, the same share of each class.

    ``round(fraction * n_c)`` samples of class ``c`` (at least one when
    ``keep_one_per_class``; a class with one sample is never all taken when
    ``keep_one_per_class`` is False, so that a validation split leaves it for
    training), drawn with ``numpy.random.default_rng(seed)``.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'stratified_fraction: fraction must be in (0, 1], got {fraction}')
    labels = np.asarray(labels.cpu() if torch.is_tensor(labels) else labels)
    rng = np.random.default_rng(seed)
    picked = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n = int(round(fraction * len(idx)))
        if keep_one_per_class:
            n = max(n, 1)
        elif len(idx) == 1:
            n = 0
        else:
            n = min(n, len(idx) - 1)
        picked.append(rng.permutation(idx)[:n])
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=int)


def accuracy(pred, target):
    """Share of equal entries."""
    return float((pred == target).float().mean())


def bootstrap_ci(correct, num_samples=1000, level=0.95, seed=0,
                 groups: Optional[np.ndarray] = None) -> Tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``correct`` (0/1 per sample).

    With ``groups`` (e.g. the tile of each pixel) whole groups are resampled, so that
    correlated pixels of one tile do not narrow the interval.
    """
    correct = np.asarray(correct.cpu() if torch.is_tensor(correct) else correct,
                         dtype=np.float64)
    rng = np.random.default_rng(seed)
    if groups is None:
        draws = rng.integers(0, len(correct), size=(num_samples, len(correct)))
        means = correct[draws].mean(1)
    else:
        groups = np.asarray(groups)
        ids, inverse = np.unique(groups, return_inverse=True)
        sums = np.bincount(inverse, weights=correct, minlength=len(ids))
        counts = np.bincount(inverse, minlength=len(ids)).astype(np.float64)
        draws = rng.integers(0, len(ids), size=(num_samples, len(ids)))
        means = sums[draws].sum(1) / counts[draws].sum(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def probe_features(feats, level, probe, fraction, seed, k=20, temperature=0.07):
    """One probe run on extracted features; returns its result row.

    ``feats`` holds ``train_{level}_x`` / ``_y`` and ``test_{level}_x`` / ``_y``
    (numpy; labels < 0 are left out) and, for pixels, ``{split}_pixel_tile`` (the
    tile of each pixel): the label fraction is then one of training tiles (labels
    come per tile in practice) and the interval resamples test tiles.

    Returns:
        dict: ``n_train``, ``n_test``, ``accuracy``, ``ci_low``, ``ci_high``.
    """
    tx = torch.from_numpy(feats[f'train_{level}_x']).float()
    ty = torch.from_numpy(feats[f'train_{level}_y']).long()
    vx = torch.from_numpy(feats[f'test_{level}_x']).float()
    vy = torch.from_numpy(feats[f'test_{level}_y']).long()
    keep_t, keep_v = ty >= 0, vy >= 0
    tx, ty, vx, vy = tx[keep_t], ty[keep_t], vx[keep_v], vy[keep_v]
    groups = feats.get(f'test_{level}_tile')
    groups = groups[keep_v.numpy()] if groups is not None else None
    num_classes = int(max(ty.max(), vy.max())) + 1
    if level == 'pixel':
        tiles = feats['train_pixel_tile'][keep_t.numpy()]
        tile_ids = np.unique(tiles)
        tile_lab = np.asarray([np.bincount(ty.numpy()[tiles == t]).argmax() for t in tile_ids])
        chosen = tile_ids[stratified_fraction(tile_lab, fraction, seed)]
        idx = np.flatnonzero(np.isin(tiles, chosen))
    else:
        idx = stratified_fraction(ty, fraction, seed)
    idx = torch.from_numpy(idx)
    if probe == 'knn':
        pred = knn_predict(tx[idx], ty[idx], vx, num_classes, k=k, temperature=temperature)
    else:
        # pixels: the regularisation is validated on held-out tiles
        train_groups = tiles[idx.numpy()] if level == 'pixel' else None
        pred = fit_linear_probe(tx[idx], ty[idx], num_classes, seed=seed,
                                groups=train_groups).predict(vx)
    correct = (pred == vy).float()
    lo, hi = bootstrap_ci(correct, seed=seed, groups=groups)
    return dict(n_train=len(idx), n_test=len(vy), accuracy=accuracy(pred, vy),
                ci_low=lo, ci_high=hi)


def summarize(rows: Iterable[Dict]):
    """{(model, level, probe): {fraction: (mean accuracy, mean CI low, mean CI high)}}.

    Rows of a named feature map (``feature`` other than ``'default'``) or of another
    precision than fp32 count as the model ``'{model} [{feature}, {precision}]'``
    (the tags that apply).
    """
    acc = {}
    for r in rows:
        model = r['model']
        tags = [r['feature']] if r.get('feature') not in (None, '', 'default') else []
        if r.get('precision') not in (None, '', 'fp32'):
            tags.append(r['precision'])
        if tags:
            model = f'{model} [{", ".join(tags)}]'
        key = (model, r['level'], r['probe'])
        acc.setdefault(key, {}).setdefault(float(r['fraction']), []).append(
            (float(r['accuracy']), float(r['ci_low']), float(r['ci_high'])))
    return {
        key: {f: tuple(np.mean(v, 0)) for f, v in sorted(per.items())}
        for key, per in acc.items()
    }


def plot_probe_results(rows, path):
    """Accuracy against label fraction, one panel per (level, probe), a line per model
    (mean over seeds, the band between the mean CI bounds)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    summary = summarize(rows)
    panels = sorted({(lv, p) for _, lv, p in summary})
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.4), squeeze=False)
    for ax, (lv, p) in zip(axes[0], panels):
        for (model, lv2, p2), per in sorted(summary.items()):
            if (lv2, p2) != (lv, p):
                continue
            fr = np.asarray(list(per)) * 100
            m, lo, hi = (np.asarray(v) for v in zip(*per.values()))
            ax.plot(fr, m, marker='o', label=model)
            ax.fill_between(fr, lo, hi, alpha=0.2)
        ax.set_xscale('log')
        ax.set_xlabel('labelled training samples (%)')
        ax.set_ylabel('accuracy')
        ax.set_title(f'{lv} level, {p}')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=110)
    plt.close(fig)
    from eofm.utils.checkpoint import atomic_write_bytes
    atomic_write_bytes(buf.getvalue(), path)
    return path
