"""Export the teacher backbone of a SkySense pretraining checkpoint.

    python tools/model_converters/skysense_teacher.py work_dirs/.../iter_150.pth \
        skysense_pretrained.pth

The paper adopts the teacher branch's parameters for downstream tasks (Fig. 3).
The output holds ``{'state_dict': {'backbone.<key>': ...}}``: load it with
``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone')`` on an
``eofm.SkySense`` of the same architecture (the geo prototypes included), or split
it into the release's six files with ``skysense2eofm.py split``.
"""
import argparse
import os.path as osp
import sys

TEACHER = 'teacher.module.backbone.'


def export_teacher(checkpoint):
    """``{'state_dict': backbone.*}`` of a pretraining checkpoint object."""
    from eofm.models.common import unwrap_state_dict
    state = unwrap_state_dict(checkpoint)
    out = {
        'backbone.' + k[len(TEACHER):]: v
        for k, v in state.items() if k.startswith(TEACHER)
    }
    if not out:
        raise KeyError(f'no {TEACHER}* keys: not a SkySensePretrainer checkpoint')
    return dict(state_dict=out, meta=dict(source='SkySensePretrainer teacher'))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='a SkySensePretrainer checkpoint')
    parser.add_argument('out', help='output file')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        sys.exit(f'error: {args.checkpoint} not found')
    from eofm.utils.checkpoint import (load_checkpoint_safely,
                                       save_checkpoint_atomically)
    try:
        out = export_teacher(load_checkpoint_safely(args.checkpoint, 'cpu'))
    except KeyError as e:
        sys.exit(f'error: {args.checkpoint}: {e.args[0]}')
    save_checkpoint_atomically(out, args.out)
    print(f'wrote {len(out["state_dict"])} teacher tensors to {args.out}')


if __name__ == '__main__':
    main()
