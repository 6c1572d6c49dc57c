# Copyright (c) eofm contributors. Licensed under the Apache License 2.0.
"""Print what a checkpoint file is and which configs use it.

    python tools/misc/inspect_checkpoint.py FILE [--configs configs] [--json]

Recognises SkySense's six release files, AnySat's ``AnySat.pth``, OmniSat reference
(Lightning) checkpoints and eofm's own checkpoints (which model under which key
prefix); prints the container, the parameter count, the SHA-256, the bands / GSD /
normalisation recorded in the checkpoint's ``meta`` and the configs that name the
file or the model. The file is read with ``torch.load(weights_only=True)`` only.
See :mod:`eofm.utils.checkpoint_info`.
"""
import argparse
import json
import pickle
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

import eofm.models  # noqa: E402,F401 - the model packages register their layouts
from eofm.utils.checkpoint_info import (
    format_checkpoint_info,  # noqa: E402
    inspect_checkpoint)


def main(argv=None):
    p = argparse.ArgumentParser(description='Print what a checkpoint file is.')
    p.add_argument('checkpoint')
    p.add_argument(
        '--configs',
        default=osp.join(ROOT, 'configs'),
        help='folder searched for configs that use it')
    p.add_argument('--json', action='store_true', help='print the report as JSON')
    args = p.parse_args(argv)
    try:
        info = inspect_checkpoint(args.checkpoint, args.configs)
    except (OSError, ValueError, RuntimeError, pickle.UnpicklingError) as e:
        print(f'error: {args.checkpoint}: {e}', file=sys.stderr)
        return 1
    print(
        json.dumps(info, indent=1, default=str) if args.
        json else format_checkpoint_info(info))
    return 0


if __name__ == '__main__':
    sys.exit(main())
