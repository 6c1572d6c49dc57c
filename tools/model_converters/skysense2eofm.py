"""Merge SkySense's six released files into one eofm checkpoint, or split it back.

    python tools/model_converters/skysense2eofm.py merge RELEASE_DIR skysense_eofm.pth
    python tools/model_converters/skysense2eofm.py split skysense_eofm.pth OUT_DIR
    python tools/model_converters/skysense2eofm.py hr skysense_model_backbone_hr.pth \
        skysense_hr_backbone.pth

``merge`` reads whichever of the release files are in RELEASE_DIR
(``skysense_model_backbone_{hr,s2,s1}.pth``, ``skysense_model_head_{s2,s1}.pth``,
``skysense_model_fusion.pth``; ``skysense_swin_huge_ghr.pth`` is accepted for the HR
file) and writes ``{'state_dict': {'backbone.hr.*', 'backbone.s2.*', ...}, 'meta':
...}``: load it with ``init_cfg=dict(type='Pretrained', checkpoint=...,
prefix='backbone')`` on ``eofm.SkySense``, or as ``load_from`` of a model whose
backbone is SkySense. ``split`` writes the files back exactly as they were (wrapper,
prefix, key order, the HR file's ``mask_token``). ``hr`` turns the HR file into a
model checkpoint for configs whose backbone is ``eofm.SkySenseSwinV2`` (mmseg, mmdet,
mmrotate, mmpretrain): ``{'state_dict': {'backbone.<key>': ...}}`` without the
wrapper and the pretraining's ``mask_token``, usable as ``load_from`` or as the
CHECKPOINT of ``tools/test.py`` (the heads then keep their initialisation). Files are
written atomically.
"""
import argparse
import os.path as osp
import sys

ALIASES = {'hr': ('skysense_swin_huge_ghr.pth', )}


def _load(path):
    from eofm.utils.checkpoint import load_checkpoint_safely
    return load_checkpoint_safely(path, map_location='cpu')


def _save(obj, path):
    from eofm.utils.checkpoint import save_checkpoint_atomically
    save_checkpoint_atomically(obj, path)


def merge(release_dir):
    """The merged checkpoint of the release files found in ``release_dir``."""
    from eofm.models.skysense.release import RELEASE_FILES, merge_release
    if not osp.isdir(release_dir):
        raise FileNotFoundError(f'skysense2eofm: {release_dir} is not a folder')
    files = {}
    for role, (name, _, _) in RELEASE_FILES.items():
        for candidate in (name, ) + ALIASES.get(role, ()):
            path = osp.join(release_dir, candidate)
            if osp.isfile(path):
                files[role] = _load(path)
                break
    if not files:
        raise FileNotFoundError(
            f'skysense2eofm: no SkySense release file in {release_dir} (expected '
            f'{", ".join(v[0] for v in RELEASE_FILES.values())})')
    return merge_release(files)


def split(checkpoint):
    """Release file name -> checkpoint object of a merged checkpoint."""
    from eofm.models.skysense.release import RELEASE_FILES, split_release
    return {
        RELEASE_FILES[role][0]: obj
        for role, obj in split_release(checkpoint).items()
    }


def hr_backbone(checkpoint):
    """``{'state_dict': backbone.*}`` of a loaded HR release file."""
    from eofm.models.common import unwrap_state_dict
    state = unwrap_state_dict(checkpoint)
    prefix = 'backbone.' if all(k.startswith('backbone.') for k in state) else ''
    out = {
        'backbone.' + k[len(prefix):]: v
        for k, v in state.items() if k[len(prefix):] != 'mask_token'
    }
    if 'backbone.patch_embed.projection.weight' not in out:
        raise KeyError('not a SkySense HR file (no patch_embed.projection.weight)')
    return dict(state_dict=out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    m = sub.add_parser('merge', help='release files -> one eofm checkpoint')
    m.add_argument('release_dir')
    m.add_argument('out')
    s = sub.add_parser('split', help='one eofm checkpoint -> release files')
    s.add_argument('checkpoint')
    s.add_argument('out_dir')
    h = sub.add_parser('hr', help='HR release file -> model checkpoint (backbone.*)')
    h.add_argument('hr_file')
    h.add_argument('out')
    args = parser.parse_args(argv)
    try:
        if args.command == 'merge':
            merged = merge(args.release_dir)
            _save(merged, args.out)
            roles = sorted(merged['meta']['skysense_release'])
            print(f'merged {roles} ({len(merged["state_dict"])} tensors) -> {args.out}')
        elif args.command == 'hr':
            if not osp.isfile(args.hr_file):
                raise FileNotFoundError(f'skysense2eofm: {args.hr_file} not found')
            out = hr_backbone(_load(args.hr_file))
            _save(out, args.out)
            print(f'wrote {len(out["state_dict"])} tensors to {args.out}')
        else:
            if not osp.isfile(args.checkpoint):
                raise FileNotFoundError(f'skysense2eofm: {args.checkpoint} not found')
            for name, obj in split(_load(args.checkpoint)).items():
                _save(obj, osp.join(args.out_dir, name))
                print(f'wrote {osp.join(args.out_dir, name)}')
    except (FileNotFoundError, KeyError) as e:
        sys.exit(f'error: {e}')


if __name__ == '__main__':
    main()
