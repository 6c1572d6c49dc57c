# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Run a model over whole geo-referenced scenes: maps and embeddings as COGs,
detected objects as a GeoPackage.

    python tools/infer_scene.py CONFIG CHECKPOINT SCENE --out-dir DIR
        [--outputs class probs confidence | image | boxes | embeddings]
        [--tile 256] [--overlap 32]
        [--blend cosine|none] [--tta flip] [--batch-size 4] [--block 4]
        [--nms-iou IOU] [--score-thr S]
        [--device cpu] [--threads N] [--precision auto|fp32|bf16|fp16 | --amp]
        [--resume | --overwrite] [--cfg-options k=v]

SCENE is a JSON / YAML file (see :mod:`eofm.apis.scene_inference`): ``modalities``
as in an annotation file, ``reference``, optional ``aoi`` and ``dates``; for a
change detector the two acquisitions as the modalities ``pre`` / ``post``, or
``change`` with two date ranges of one series. Outputs: ``class`` / ``probs`` /
``confidence`` for segmentation and change maps, ``image`` (float32 bands on the
reference grid) for cloud removal and pan-sharpening, ``boxes`` (``boxes.gpkg``:
polygons in the reference CRS with class, class_id and score; a detection config
reading image files takes the scene modality ``img``, bands R, G, B) for detectors,
``embeddings`` for any model; by default the model's own. Distributed:
tools/dist_infer_scene.sh CONFIG CHECKPOINT SCENE NPROC [options].
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import eofm  # noqa: E402,F401
from mmengine.config import DictAction  # noqa: E402

from eofm.apis.scene_inference import (SceneInferenceError,  # noqa: E402
                                       SceneInferencer)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Scene inference to COGs: segmentation and change maps, '
        'image-to-image bands, embeddings; detections to a GeoPackage',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n\n', 2)[2])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument(
        'scene', help='scene description (JSON / YAML); a change detector reads '
        "the modalities 'pre' / 'post' or change=dict(modality=..., pre=dict("
        'start=..., end=...), post=dict(...))')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument(
        '--outputs', nargs='+', default=None,
        choices=['class', 'probs', 'confidence', 'image', 'boxes', 'embeddings'],
        help="layers to write (default: the model's own: class, image for an "
        'image-to-image model, boxes for a detector); change detectors write '
        "class / probs / confidence with the classes 'no change' / 'change'")
    parser.add_argument('--tile', type=int, default=256)
    parser.add_argument('--overlap', type=int, default=32)
    parser.add_argument('--blend', choices=['cosine', 'none'], default='cosine')
    parser.add_argument('--tta', choices=['flip'], default=None)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--block', type=int, default=4, help='blocks of N x N windows')
    parser.add_argument(
        '--nms-iou', type=float, default=None,
        help='detectors: IoU of the class-wise NMS over the boxes of all windows '
        "(default: the model's test_cfg, else 0.5)")
    parser.add_argument('--score-thr', type=float, default=None,
                        help='detectors: drop boxes scoring less')
    parser.add_argument(
        '--feature', default=None,
        help="embeddings: the model's named feature map to write (e.g. SkySense's "
        "fused_mm, hr, s2, s1; as the probe tool's --feature)")
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    prec = parser.add_mutually_exclusive_group()
    prec.add_argument(
        '--precision', choices=['auto', 'fp32', 'bf16', 'fp16'], default='auto',
        help='auto (default): bf16 autocast on a CPU with bf16 matrix units, fp32 '
        'elsewhere and on GPUs')
    prec.add_argument('--amp', action='store_const', const='bf16', dest='precision',
                      help='bf16 autocast (the same as --precision bf16)')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--resume', action='store_true',
                       help='continue a run in --out-dir (finished blocks are kept)')
    group.add_argument('--overwrite', action='store_true',
                       help='remove --out-dir and start again')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.launcher == 'pytorch':
        import torch
        import torch.distributed as dist
        backend = 'nccl' if torch.cuda.is_available() and args.device.startswith(
            'cuda') else 'gloo'
        dist.init_process_group(backend=backend)
        if backend == 'nccl':
            torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
            args.device = f'cuda:{os.environ.get("LOCAL_RANK", 0)}'
    try:
        inferencer = SceneInferencer(
            args.config, args.checkpoint, device=args.device,
            cfg_options=args.cfg_options, outputs=args.outputs, tile=args.tile,
            overlap=args.overlap, blend=args.blend, tta=args.tta,
            batch_size=args.batch_size, block=args.block, num_threads=args.threads,
            precision=args.precision, progress=int(os.environ.get('RANK', 0)) == 0,
            nms_iou=args.nms_iou, score_thr=args.score_thr, feature=args.feature)
        inferencer(args.scene, args.out_dir, resume=args.resume,
                   overwrite=args.overwrite)
    except SceneInferenceError as e:
        print(f'infer_scene: error: {e}', file=sys.stderr)
        sys.exit(2)


if __name__ == '__main__':
    main()
