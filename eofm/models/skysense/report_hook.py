"""A short report at the end of a SkySense pretraining run (rank 0, work dir).

* ``loss_curves.png``: every ``loss*`` term logged during training;
* ``prototypes.png``: a validation tile's HR image, its labels, and every pixel of
  the fusion grid painted with its most similar geo-context prototype (teacher
  features, the prototypes of the tile's region; as the paper's Fig. 5);
* ``linear_probe.json`` / ``report.md``: linear-probe accuracy of the pretrained
  teacher versus the same architecture randomly initialised, on the sample labels
  (per-pixel land cover on the fusion grid, and the tile's majority class from
  pooled features): logistic regression trained on the train split, scored on
  the validation split.
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


def _features(backbone, preprocessor, dataset, max_samples):
    """Teacher F_fus per pixel with labels, and pooled features with tile labels."""
    from eofm.datasets import multimodal_collate
    pix, pix_y, img, img_y, samples = [], [], [], [], []
    backbone.eval()
    with torch.no_grad():
        for i in range(min(len(dataset), max_samples)):
            item = dataset[i]
            batch = preprocessor(multimodal_collate([item]))['inputs']
            out = backbone.forward_features(batch)
            f = out['fused_mm'][0]  # (D, h, w)
            seg = item['data_samples'].gt_seg_map[None, None].float()
            seg = F.interpolate(seg, size=f.shape[-2:], mode='nearest')[0, 0].long()
            pix.append(f.flatten(1).t())
            pix_y.append(seg.flatten())
            img.append(f.mean((1, 2)))
            img_y.append(item['data_samples'].gt_label.view(1))
            samples.append((item, batch, out))
    return (torch.cat(pix), torch.cat(pix_y), torch.stack(img), torch.cat(img_y),
            samples)


def linear_probe(train_x, train_y, val_x, val_y, num_classes, steps=300, lr=0.1):
    """Accuracy of a logistic regression (standardised features, full batch)."""
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    tx, vx = (train_x - mean) / std, (val_x - mean) / std
    torch.manual_seed(0)
    layer = torch.nn.Linear(tx.shape[1], num_classes)
    opt = torch.optim.Adam(layer.parameters(), lr=lr, weight_decay=1e-4)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(layer(tx), train_y).backward()
        opt.step()
    with torch.no_grad():
        return (layer(vx).argmax(1) == val_y).float().mean().item()


@HOOKS.register_module()
class PretrainReportHook(Hook):
    """Write the report described in the module docstring after training.

    Args:
        probe_train (dict): Dataset config of labelled tiles to fit the probes on
            (the test pipeline: no augmentation, one view).
        probe_val (dict): Dataset config to score them on.
        num_classes (int): Land-cover classes of the labels.
        max_samples (int): Tiles used from each split.
    """

    priority = 'VERY_LOW'

    def __init__(self, probe_train, probe_val, num_classes, max_samples=64):
        self.probe_train, self.probe_val = probe_train, probe_val
        self.num_classes, self.max_samples = num_classes, max_samples

    def after_run(self, runner):
        if not is_main_process():
            return
        from mmengine.model import is_model_wrapper

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
        results = {}
        for name, net in (('pretrained teacher', teacher), ('random init', random)):
            tr = _features(net, model.data_preprocessor, train, self.max_samples)
            va = _features(net, model.data_preprocessor, val, self.max_samples)
            results[name] = dict(
                pixel_accuracy=linear_probe(tr[0], tr[1], va[0], va[1],
                                            self.num_classes),
                tile_accuracy=linear_probe(tr[2], tr[3], va[2], va[3],
                                           self.num_classes))
            if name == 'pretrained teacher':
                self._prototype_map(teacher, va[4][0], train.metainfo.get('classes'),
                                    osp.join(out_dir, 'prototypes.png'))
        results['iterations'] = runner.iter
        results['train_tiles'] = min(len(train), self.max_samples)
        results['val_tiles'] = min(len(val), self.max_samples)
        with open(osp.join(out_dir, 'linear_probe.json'), 'w') as f:
            json.dump(results, f, indent=1)
        self._markdown(results, osp.join(out_dir, 'report.md'))
        runner.logger.info(f'pretraining report in {out_dir}: ' + ', '.join(
            f'{k}: pixel {v["pixel_accuracy"]:.3f} / tile {v["tile_accuracy"]:.3f}'
            for k, v in results.items() if isinstance(v, dict)))

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

    @staticmethod
    def _markdown(results, path):
        lines = [
            '# SkySense pretraining report', '',
            f'{results["iterations"]} iterations; linear probes fitted on '
            f'{results["train_tiles"]} tiles, scored on {results["val_tiles"]}.', '',
            '| features | pixel accuracy | tile accuracy |', '|---|---|---|'
        ]
        for k, v in results.items():
            if isinstance(v, dict):
                lines.append(f'| {k} | {v["pixel_accuracy"]:.3f} | '
                             f'{v["tile_accuracy"]:.3f} |')
        lines += [
            '', '![loss curves](loss_curves.png)', '', '![prototypes](prototypes.png)',
            ''
        ]
        with open(path, 'w') as f:
            f.write('\n'.join(lines))
