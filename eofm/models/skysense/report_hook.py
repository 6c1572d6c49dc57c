"""A short report at the end of a SkySense pretraining run (rank 0, work dir).

* ``loss_curves.png``: every ``loss*`` term logged during training;
* ``prototypes.png``: a validation tile's HR image, its labels, and every pixel of
  the fusion grid painted with its most similar geo-context prototype (teacher
  features, the prototypes of the tile's region; as the paper's Fig. 5);
* ``report.md`` / ``linear_probe.json`` / ``label_efficiency.png``: k-NN and
  linear probes (:mod:`eofm.evaluation.probes`) of the pretrained teacher versus
  the same architecture randomly initialised, on the sample labels (per-pixel land
  cover on the fusion grid, and the tile's majority class from pooled features),
  trained on stratified label fractions of the train split with several seeds,
  scored on the validation split with bootstrapped 95 % intervals;
* ``land_cover_map.png`` and ``scene_map/``: a generated scene larger than the
  tiles (:func:`eofm.datasets.sample_data.make_scene`, drawn as the sample data),
  run through scene inference (:class:`eofm.apis.SceneInferencer`, the last
  checkpoint, the teacher's F_fus^mm as blended embeddings on the Sentinel-2 grid),
  every pixel classified by the pixel-level linear probe fitted on all training
  labels, next to the scene's labels.
"""
import json
import os.path as osp

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from eofm.registry import HOOKS
from eofm.structures.batch_schema import LONLAT

__all__ = ['PretrainReportHook']

#: The generated scene of the land-cover map (``PretrainReportHook(scene=...)``
#: overrides some of it): its side in Sentinel-2 pixels, region index and seed, and
#: the scene inference's window and overlap in Sentinel-2 pixels.
DEFAULT_SCENE = dict(size=128, region=0, seed=0, tile=32, overlap=8)


def _features(backbone, preprocessor, dataset, max_samples, pixels_per_tile=256):
    """Teacher F_fus^mm per pixel (labels at the fusion grid) and pooled per tile.

    Returns the features in :func:`eofm.evaluation.probes.probe_features`'s layout
    (without the split prefix) and the first samples for the prototype map.
    """
    from eofm.datasets import multimodal_collate
    rng = np.random.default_rng(0)
    pix, pix_y, pix_tile, img, img_y, samples = [], [], [], [], [], []
    backbone.eval()
    with torch.no_grad():
        for i in range(min(len(dataset), max_samples)):
            item = dataset[i]
            batch = preprocessor(multimodal_collate([item]))['inputs']
            out = backbone.forward_features(batch)
            f = out['fused_mm'][0]  # (D, h, w)
            seg = item['data_samples'].gt_seg_map[None, None].float()
            seg = F.interpolate(seg, size=f.shape[-2:], mode='nearest')[0, 0].long()
            idx = np.arange(seg.numel())
            if len(idx) > pixels_per_tile:
                idx = np.sort(rng.choice(idx, pixels_per_tile, replace=False))
            pix.append(f.flatten(1).t()[idx].numpy())
            pix_y.append(seg.flatten()[idx].numpy())
            pix_tile.append(np.full(len(idx), i))
            img.append(f.mean((1, 2)).numpy())
            img_y.append(int(item['data_samples'].gt_label.view(-1)[0]))
            if i < 1:
                samples.append((item, batch, out))
    feats = dict(pixel_x=np.concatenate(pix), pixel_y=np.concatenate(pix_y),
                 pixel_tile=np.concatenate(pix_tile), tile_x=np.stack(img),
                 tile_y=np.asarray(img_y))
    return feats, samples, tuple(f.shape[-2:])


@HOOKS.register_module()
class PretrainReportHook(Hook):
    """Write the report described in the module docstring after training.

    Args:
        probe_train (dict): Dataset config of labelled tiles to fit the probes on
            (the test pipeline: no augmentation, one view).
        probe_val (dict): Dataset config to score them on.
        num_classes (int): Land-cover classes of the labels.
        max_samples (int): Tiles used from each split.
        fractions (Sequence[float]): Label fractions of the probes.
        seeds (Sequence[int]): Seeds of the label fractions.
        scene (dict, optional): The generated scene of the land-cover map:
            ``size`` (Sentinel-2 pixels), ``region`` (index into the sample data's
            regions), ``seed``, and the scene inference's ``tile`` / ``overlap``
            (Sentinel-2 pixels); keys left out keep :data:`DEFAULT_SCENE`. None:
            no map.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 probe_train,
                 probe_val,
                 num_classes,
                 max_samples=64,
                 fractions=(0.05, 0.1, 0.25, 1.0),
                 seeds=(0, 1, 2),
                 scene=DEFAULT_SCENE):
        self.probe_train, self.probe_val = probe_train, probe_val
        self.num_classes, self.max_samples = num_classes, max_samples
        self.fractions, self.seeds = tuple(fractions), tuple(seeds)
        self.scene = {**DEFAULT_SCENE, **scene} if scene else None

    def after_run(self, runner):
        if not is_main_process():
            return
        from mmengine.model import is_model_wrapper

        from eofm.evaluation.probes import plot_probe_results, probe_features
        from eofm.registry import DATASETS, MODELS
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        out_dir = runner.work_dir
        self._loss_curves(runner, osp.join(out_dir, 'loss_curves.png'))
        train = DATASETS.build(self.probe_train)
        val = DATASETS.build(self.probe_val)
        teacher = model.teacher.module['backbone']
        torch.manual_seed(0)
        random = MODELS.build(runner.cfg.model['backbone'])
        random.init_weights()
        rows, per_class = [], {}
        for name, net in (('pretrained teacher', teacher), ('random init', random)):
            tr, _, _ = _features(net, model.data_preprocessor, train, self.max_samples)
            va, first, grid = _features(net, model.data_preprocessor, val,
                                        self.max_samples)
            feats = {f'train_{k}': v for k, v in tr.items()}
            feats.update({f'test_{k}': v for k, v in va.items()})
            full_probe = self._full_label_probe(feats)
            pred = full_probe.predict(torch.from_numpy(feats['test_pixel_x'])).numpy()
            vy = feats['test_pixel_y']
            per_class[name] = [
                float((pred[vy == c] == c).mean()) if (vy == c).any() else None
                for c in range(self.num_classes)
            ]
            for level in ('pixel', 'tile'):
                for probe in ('knn', 'linear'):
                    for fraction in self.fractions:
                        for seed in self.seeds:
                            res = probe_features(feats, level, probe, fraction, seed)
                            rows.append(dict(res, model=name, level=level, probe=probe,
                                             fraction=fraction, seed=seed))
            if name == 'pretrained teacher':
                self._prototype_map(teacher, first[0], train.metainfo.get('classes'),
                                    osp.join(out_dir, 'prototypes.png'))
                scene_acc = self._scene_map(runner, full_probe, train.metainfo,
                                            osp.join(out_dir, 'scene_map'),
                                            osp.join(out_dir, 'land_cover_map.png'))
        plot_probe_results(rows, osp.join(out_dir, 'label_efficiency.png'))
        results = dict(
            iterations=runner.iter,
            train_tiles=min(len(train), self.max_samples),
            val_tiles=min(len(val), self.max_samples),
            rows=[{k: (float(v) if isinstance(v, (np.floating, float)) else v)
                   for k, v in r.items()} for r in rows])
        for name in ('pretrained teacher', 'random init'):  # the full-label summary
            full = [r for r in rows if r['model'] == name and r['fraction'] == 1.0
                    and r['probe'] == 'linear']
            results[name] = {
                f'{lv}_accuracy': float(np.mean([r['accuracy'] for r in full
                                                 if r['level'] == lv]))
                for lv in ('pixel', 'tile')
            }
        results['per_class_pixel_recall'] = per_class
        results['scene_map_accuracy'] = scene_acc
        with open(osp.join(out_dir, 'linear_probe.json'), 'w') as f:
            json.dump(results, f, indent=1)
        self._markdown(results, rows, osp.join(out_dir, 'report.md'),
                       train.metainfo.get('classes'))
        runner.logger.info(f'pretraining report in {out_dir}: ' + ', '.join(
            f'{k}: pixel {results[k]["pixel_accuracy"]:.3f} / tile '
            f'{results[k]["tile_accuracy"]:.3f}'
            for k in ('pretrained teacher', 'random init')))

    def _full_label_probe(self, feats):
        """The pixel-level linear probe fitted on all training labels: the
        per-class recall and the land-cover map."""
        from eofm.evaluation.probes import fit_linear_probe
        return fit_linear_probe(torch.from_numpy(feats['train_pixel_x']),
                                torch.from_numpy(feats['train_pixel_y']).long(),
                                self.num_classes, groups=feats['train_pixel_tile'])

    @staticmethod
    def _loss_curves(runner, path):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        scalars = runner.message_hub.log_scalars
        keys = sorted(k for k in scalars if k.startswith('train/loss'))
        fig, ax = plt.subplots(figsize=(7, 4))
        for k in keys:
            values = np.asarray(scalars[k].data[0], dtype=float)
            ax.plot(np.arange(1, len(values) + 1), values, label=k[len('train/'):])
        ax.set_xlabel('iteration')
        ax.set_ylabel('loss')
        ax.set_title('SkySense pretraining')
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    @staticmethod
    def _prototype_map(backbone, sample, classes, path):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        item, batch, out = sample
        geo = backbone.geo_context
        region = geo.regions(batch[LONLAT])[0]
        protos = F.normalize(geo.prototypes[region], dim=-1)
        f = F.normalize(out['fused_mm'][0].flatten(1).t(), dim=-1)
        assign = (f @ protos.t()).argmax(1).view(out['fused_mm'].shape[-2:]).numpy()
        hr = batch['hr'][0, :3].permute(1, 2, 0).numpy()
        hr = (hr - hr.min()) / max(hr.max() - hr.min(), 1e-6)
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
        axes[0].imshow(hr)
        axes[0].set_title('HR image')
        axes[1].imshow(
            item['data_samples'].gt_seg_map.numpy(),
            cmap='tab10',
            vmin=0,
            vmax=9,
            interpolation='nearest')
        axes[1].set_title('labels: ' + ', '.join(classes or []))
        axes[2].imshow(hr)
        axes[2].imshow(
            assign,
            cmap='tab20',
            alpha=0.6,
            interpolation='nearest',
            extent=(0, hr.shape[1], hr.shape[0], 0))
        axes[2].set_title(f'nearest prototype (region {int(region)})')
        for ax in axes:
            ax.axis('off')
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)

    def _scene_map(self, runner, probe, metainfo, out_dir, path):
        """The land-cover map of a generated scene (module docstring); returns its
        pixel accuracy, None without a scene."""
        if not self.scene:
            return None
        import copy
        import os

        from eofm.apis import SceneInferencer
        from eofm.datasets.geo_io import open_raster
        from eofm.datasets.sample_data import make_scene
        variant = (metainfo.get('generator') or {}).get('variant', 'default')
        scene_json, labels_path = make_scene(
            osp.join(out_dir, 'data'), size=self.scene['size'], seed=self.scene['seed'],
            variant=variant, region=self.scene['region'])
        cfg = copy.deepcopy(runner.cfg)
        cfg.test_dataloader = dict(dataset=self.probe_val)  # the probes' pipeline
        ckpt = self._final_checkpoint(runner)
        if ckpt is None:  # this run saved none at its end: the model as it is
            from mmengine.model import is_model_wrapper
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            os.makedirs(out_dir, exist_ok=True)
            ckpt = osp.join(out_dir, 'model.pth')
            torch.save(dict(state_dict=model.state_dict()), ckpt)
        # fp32 and the map the probes read, so that the pixels get the probes'
        # features; one process (the other ranks have left the run)
        inferencer = SceneInferencer(
            cfg, ckpt, outputs=['embeddings'], feature='fused_mm', tile=self.scene['tile'],
            overlap=self.scene['overlap'], precision='fp32', progress=False)
        manifest = inferencer(scene_json, osp.join(out_dir, 'inference'),
                              overwrite=True, rank=0, world_size=1)
        emb = open_raster(osp.join(out_dir, 'inference', manifest['files'][
            'embeddings']['path'])).ReadAsArray().astype(np.float32)
        valid = np.isfinite(emb).all(0)
        pred = np.full(valid.shape, -1)
        pred[valid] = probe.predict(torch.from_numpy(emb[:, valid].T)).numpy()
        labels = open_raster(labels_path).ReadAsArray().astype(int).reshape(valid.shape)
        acc = float((pred[valid] == labels[valid]).mean()) if valid.any() else None
        hr = open_raster(osp.join(out_dir, 'data', 'hr', 'scene.tif'))
        side = min(512, hr.RasterXSize)  # a preview
        hr = hr.ReadAsArray(band_list=[1, 2, 3], buf_xsize=side, buf_ysize=side)
        self._plot_scene(hr, pred, labels, valid, acc, metainfo.get('classes'), path,
                         runner.logger)
        return acc

    @staticmethod
    def _final_checkpoint(runner):
        """The checkpoint this run saved at its last iteration (the work dir's
        ``last_checkpoint``, when it names ``iter_{runner.iter}.pth``), else None:
        a ``last_checkpoint`` left by an earlier run in the same work dir, or one
        of an earlier iteration, holds other weights."""
        last = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(last):
            return None
        with open(last) as f:
            ckpt = f.read().strip()
        if osp.basename(ckpt) != f'iter_{runner.iter}.pth' or not osp.isfile(ckpt):
            return None
        return ckpt

    def _plot_scene(self, hr, pred, labels, valid, acc, classes, path, logger=None):
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        n_cls = len(classes or []) or self.num_classes
        shown = np.where(valid, pred, np.nan).astype(float)
        rgb = hr.transpose(1, 2, 0).astype(np.float32)
        rgb = (rgb - rgb.min()) / max(float(rgb.max() - rgb.min()), 1e-6)
        fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
        axes[0].imshow(rgb)
        axes[0].set_title('HR image (R, G, B)')
        acc_text = 'no valid pixel' if acc is None else f'pixel accuracy {acc:.3f}'
        for ax, img, title in zip(axes[1:], (shown, labels),
                                  (f'predicted ({acc_text})', 'labels')):
            im = ax.imshow(img, cmap=plt.get_cmap('tab10', n_cls), vmin=-0.5,
                           vmax=n_cls - 0.5, interpolation='nearest')
            ax.set_title(title)
        for ax in axes:
            ax.axis('off')
        cbar = fig.colorbar(im, ax=axes, ticks=range(n_cls), fraction=0.03)
        cbar.ax.set_yticklabels(list(classes or range(n_cls)))
        fig.suptitle('A generated scene through scene inference: the pretrained '
                     "teacher's embeddings + the linear probe (10 m pixels)")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        if logger is not None:
            logger.info(f'land-cover map of the generated scene: {acc_text}')

    def _markdown(self, results, rows, path, classes=None):
        from eofm.evaluation.probes import summarize
        tiles = {}  # labelled training tiles of each fraction (the tile-level probes')
        for f in self.fractions:
            n = [r['n_train'] for r in rows if r['level'] == 'tile' and r['fraction'] == f]
            tiles[f] = f'{np.mean(n):g}' if n else '?'
        lines = [
            '# SkySense pretraining report', '',
            f'{results["iterations"]} iterations. Frozen features (F_fus^mm of the EMA '
            'teacher, and of the same architecture randomly initialised) probed on '
            f'{results["train_tiles"]} training tiles, scored on {results["val_tiles"]} '
            'validation tiles: k-NN (cosine, k = 20, temperature-weighted) and linear '
            '(logistic regression) probes, at pixel level (land cover at the fusion '
            "grid) and tile level (the tile's majority class), trained on stratified "
            f'fractions of the training tiles, mean over seeds {list(self.seeds)}, '
            'with the mean bootstrapped 95 % interval.', '',
            '| features | level | probe | ' + ' | '.join(
                f'{f * 100:g} % labels ({tiles[f]} tiles)' for f in self.fractions) + ' |',
            '|---|---|---|' + '---|' * len(self.fractions)
        ]
        for (model, level, probe), per in sorted(summarize(rows).items()):
            lines.append(f'| {model} | {level} | {probe} | ' + ' | '.join(
                f'{m:.3f} [{lo:.3f}, {hi:.3f}]' for m, lo, hi in per.values()) + ' |')
        per_class = results.get('per_class_pixel_recall', {})
        if per_class:
            names = list(classes or range(self.num_classes))
            lines += [
                '', 'Per-class recall of the pixel-level linear probe on all training '
                'labels:', '', '| features | ' + ' | '.join(map(str, names)) + ' |',
                '|---|' + '---|' * len(names)
            ]
            for model, rec in per_class.items():
                lines.append(f'| {model} | ' + ' | '.join(
                    '-' if r is None else f'{r:.2f}' for r in rec) + ' |')
        lines += ['', '![label efficiency](label_efficiency.png)']
        if results.get('scene_map_accuracy') is not None:
            lines += [
                '', f'A generated scene of {self.scene["size"]} x '
                f'{self.scene["size"]} Sentinel-2 pixels (larger than the '
                'tiles, drawn as they are) through scene inference '
                '(`eofm.apis.SceneInferencer`, `scene_map/inference/`: the last '
                "checkpoint's teacher F_fus^mm, blended embeddings on the 10 m grid), "
                'each pixel classified by the pixel-level linear probe on all training '
                f'labels: pixel accuracy {results["scene_map_accuracy"]:.3f}.', '',
                '![land cover](land_cover_map.png)'
            ]
        lines += [
            '',
            '![loss curves](loss_curves.png)', '', '![prototypes](prototypes.png)', ''
        ]
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
