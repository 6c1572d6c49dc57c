"""Draw the pictures of ``docs/inference.md`` (blending, embeddings) from a
generated scene and a small randomly initialised segmentation model.

Three runs of :class:`eofm.apis.SceneInferencer` over one 512 x 512 scene: the whole
scene as one window (the reference), windows of 128 px without overlap and without
blending (what an inferencer that does not blend gives), and windows of 128 px
overlapping by 32 px with cosine-squared blending; then an embedding export. The
figure shows one class probability of each tiled run and its difference from the
whole-scene output, where the seams of the unblended run show.

Example::

    python tools/misc/plot_scene_inference.py --out-dir docs
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

CONFIG = '''
default_scope = 'mmseg'
custom_imports = dict(imports=['eofm'], allow_failed_imports=False)
pipeline = [
    dict(type='eofm.LoadMultiModalTiles', modalities=dict(hr=dict(scale='uint8')),
         reference='hr'),
    dict(type='eofm.PackMultiModalInputs', modalities=['hr']),
]
test_dataloader = dict(batch_size=1, dataset=dict(
    type='eofm.MultiModalDataset', ann_file='', pipeline=pipeline,
    metainfo=dict(classes=('water', 'field', 'forest', 'town'))))
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(type='eofm.MultiModalDataPreprocessor', task='seg',
                           tensor_input='hr',
                           normalize=dict(hr=dict(mean=[128.0] * 4, std=[40.0] * 4))),
    backbone=dict(type='eofm.SimpleConvNet', in_channels=4, channels=(16, 16, 16),
                  strides=(2, 1, 2)),
    decode_head=dict(type='FCNHead', in_channels=16, channels=16, num_convs=2,
                     concat_input=False, num_classes=4, norm_cfg=dict(type='BN'),
                     align_corners=False),
    test_cfg=dict(mode='whole'))
'''


def make_scene(folder, size=512, seed=0):
    """A 4-band uint8 GeoTIFF of Voronoi fields with their own spectra and texture."""
    from eofm.datasets.geo_io import write_geotiff
    rng = np.random.default_rng(seed)
    seeds = rng.uniform(0, size, (48, 2))
    yy, xx = np.mgrid[:size, :size]
    d = (yy[None] - seeds[:, 0, None, None])**2 + (xx[None] - seeds[:, 1, None, None])**2
    field = d.argmin(0)
    spectra = rng.uniform(30, 220, (48, 4))
    img = spectra[field].transpose(2, 0, 1) + rng.normal(0, 12, (4, size, size))
    img = np.clip(img, 1, 255).astype(np.uint8)
    path = write_geotiff(osp.join(folder, 'scene.tif'), img, (500000.0, 5001024.0),
                         2.0, 32632, nodata=0, band_names=['R', 'G', 'B', 'NIR'])
    return dict(reference='hr', modalities=dict(hr=dict(path=str(path))))


def make_model(folder, seed=0):
    """The config and a checkpoint of random weights (BN statistics included)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    import mmseg.models  # noqa: F401
    from eofm.registry import MODELS
    config = osp.join(folder, 'model.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(Config.fromfile(config).model)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
        # confident logits, so that the probabilities follow the scene
        model.decode_head.conv_seg.weight.mul_(6)
    ckpt = osp.join(folder, 'model.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return config, ckpt


def probs(folder):
    from osgeo import gdal
    return gdal.Open(osp.join(folder, 'probs.tif')).ReadAsArray().astype(np.float32) / 254


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out-dir', default='docs')
    parser.add_argument('--tile', type=int, default=128)
    parser.add_argument('--overlap', type=int, default=32)
    args = parser.parse_args()

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image

    from eofm.apis import SceneInferencer
    work = tempfile.mkdtemp(prefix='eofm_scene_figures_')
    scene = make_scene(work)
    config, ckpt = make_model(work)
    runs = dict(whole=dict(tile=512, overlap=0, blend='none'),
                unblended=dict(tile=args.tile, overlap=0, blend='none'),
                blended=dict(tile=args.tile, overlap=args.overlap, blend='cosine'))
    p = {}
    for name, kw in runs.items():
        out = osp.join(work, name)
        SceneInferencer(config, ckpt, outputs=('class', 'probs'), precision='fp32',
                        progress=False, **kw)(scene, out)
        p[name] = probs(out)
    emb = osp.join(work, 'embeddings')
    SceneInferencer(config, ckpt, outputs=('embeddings', ), tile=args.tile,
                    overlap=args.overlap, precision='fp32', progress=False)(scene, emb)

    k = 1  # the probability of one class
    diffs = {n: np.abs(p[n] - p['whole']).max(0) for n in ('unblended', 'blended')}
    fig, axes = plt.subplots(2, 2, figsize=(10, 10))
    for col, name in enumerate(('unblended', 'blended')):
        kw = runs[name]
        title = (f'{kw["tile"]} px windows, no overlap, no blending' if name ==
                 'unblended' else f'{kw["tile"]} px windows, overlap {kw["overlap"]}, '
                 'cosine blending')
        axes[0, col].imshow(p[name][k], cmap='magma', vmin=0, vmax=1)
        axes[0, col].set_title(f'P(field): {title}', fontsize=9)
        im = axes[1, col].imshow(diffs[name], cmap='viridis', vmin=0, vmax=0.1)
        axes[1, col].set_title(f'|tiled - whole scene| (max {diffs[name].max():.3f})',
                               fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[1].tolist(), shrink=0.8, label='largest probability '
                 'difference over the classes')
    os.makedirs(args.out_dir, exist_ok=True)
    blend_png = osp.join(args.out_dir, 'inference_blending.png')
    fig.savefig(blend_png, dpi=80, bbox_inches='tight')
    plt.close(fig)

    from osgeo import gdal
    img = gdal.Open(scene['modalities']['hr']['path']).ReadAsArray()[:3].transpose(1, 2, 0)
    preview = np.asarray(Image.open(osp.join(emb, 'embeddings_preview.png')))
    fig, axes = plt.subplots(1, 2, figsize=(10, 5))
    axes[0].imshow(img)
    axes[0].set_title('scene (bands R, G, B)', fontsize=9)
    axes[1].imshow(preview)
    axes[1].set_title('embeddings: first three principal components '
                      '(embeddings_preview.png)', fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    emb_png = osp.join(args.out_dir, 'inference_embeddings.png')
    fig.savefig(emb_png, dpi=80, bbox_inches='tight')
    plt.close(fig)
    stats = {n: dict(max=round(float(d.max()), 4), mean=round(float(d.mean()), 5))
             for n, d in diffs.items()}
    print(json.dumps(dict(figures=[blend_png, emb_png], difference_from_whole=stats),
                     indent=1))


if __name__ == '__main__':
    main()
