"""Print eofm's environment and check it against the pinned stack.

    python -m eofm.utils.collect_env           # report
    python -m eofm.utils.collect_env --check   # report, exit 1 with reasons if off
"""
import argparse
import importlib
import os.path as osp
import re
import sys

__all__ = ['collect_env', 'check_env']

_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# import name -> distribution name in requirements/*.txt
_PINNED = {
    'torch': 'torch',
    'torchvision': 'torchvision',
    'numpy': 'numpy',
    'mmengine': 'mmengine',
    'mmcv': 'mmcv',
    'mmdet': 'mmdet',
    'mmrotate': 'mmrotate',
    'mmseg': 'mmsegmentation',
    'mmpretrain': 'mmpretrain',
}

# Versions of the pinned stack when eofm runs from an installed copy without
# its requirements folder.
_DEFAULT_PINS = {
    'torch': '2.13.0', 'torchvision': '0.28.0', 'numpy': '2.4.6', 'mmengine': '0.10.7',
    'mmcv': '2.0.1', 'mmdet': '3.1.0', 'mmrotate': '1.0.0rc1', 'mmsegmentation': '1.2.2',
    'mmpretrain': '1.2.0'
}


def read_pins():
    """``{distribution: version}`` of the ``==`` pins in ``requirements/``."""
    pins = dict(_DEFAULT_PINS)
    for name in ('runtime', 'mminstall'):
        path = osp.join(_ROOT, 'requirements', name + '.txt')
        if not osp.isfile(path):
            continue
        with open(path) as f:
            for line in f:
                m = re.match(r'^([A-Za-z0-9_.-]+)==([^\s#;]+)', line.strip())
                if m:
                    pins[m.group(1)] = m.group(2)
    return pins


def _version(module):
    try:
        mod = importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 - any import failure is reported
        return None, f'{type(e).__name__}: {e}'
    return getattr(mod, '__version__', 'unknown'), None


def collect_env():
    """``{name: value}`` describing the environment (versions, devices, ops)."""
    import eofm  # noqa: F401 - applies the compatibility fixes first
    env = {'Python': sys.version.replace('\n', ' ')}
    for module in _PINNED:
        version, err = _version(module)
        env[module] = version if err is None else f'NOT IMPORTABLE ({err})'
    import torch
    env['CUDA available'] = torch.cuda.is_available()
    if torch.cuda.is_available():
        env['GPU'] = ', '.join(
            torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    env['torch CUDA build'] = torch.version.cuda
    env['torch threads'] = torch.get_num_threads()
    from eofm.utils.precision import cpu_bf16_flags, resolve_precision
    flags = cpu_bf16_flags()
    env['CPU bf16 matrix units'] = ('unknown (CPU flags not readable)' if flags is None
                                    else ', '.join(flags) or 'none')
    env['precision auto (CPU)'] = resolve_precision('auto', 'cpu')
    try:
        from mmcv.utils import ext_loader
        ext_loader.load_ext('_ext', ['nms'])
        from mmcv.ops import get_compiling_cuda_version
        env['mmcv ops'] = f'compiled (CUDA ops: {get_compiling_cuda_version()})'
    except Exception as e:  # noqa: BLE001
        env['mmcv ops'] = f'MISSING ({type(e).__name__}: {e})'
    try:
        from osgeo import gdal
        env['GDAL'] = gdal.__version__
    except Exception as e:  # noqa: BLE001
        env['GDAL'] = f'NOT IMPORTABLE ({type(e).__name__}: {e})'
    env['eofm'] = eofm.__version__
    return env


def check_env(env=None):
    """Problems of ``env`` against the pinned stack, as readable sentences."""
    env = collect_env() if env is None else env
    pins = read_pins()
    problems = []
    if not env['Python'].startswith('3.11'):
        problems.append(f'Python is {env["Python"].split()[0]}, eofm needs 3.11')
    for module, dist in _PINNED.items():
        got = str(env.get(module))
        want = pins.get(dist)
        if got.startswith('NOT IMPORTABLE'):
            problems.append(f'{module}: {got}; run `make setup`')
        elif want and got.split('+')[0] != want:
            problems.append(f'{module} is {got}, requirements pin {dist}=={want}'
                            + (' (never mix torch builds: reinstall with `make setup`)'
                               if module in ('torch', 'torchvision') else ''))
    if not str(env.get('mmcv ops', '')).startswith('compiled'):
        problems.append(f'mmcv has no compiled ops: {env.get("mmcv ops")}. Build it with '
                        '`make setup` or point EOFM_MMCV_WHEEL to a wheel with ops')
    if str(env.get('GDAL', '')).startswith('NOT IMPORTABLE'):
        problems.append(f'GDAL Python bindings missing: {env["GDAL"]}. Install '
                        'libgdal-dev, then GDAL==$(gdal-config --version)')
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
                        help='exit with status 1 when the environment is off')
    args = parser.parse_args(argv)
    env = collect_env()
    width = max(len(k) for k in env)
    for key, value in env.items():
        print(f'{key:<{width}} : {value}')
    if args.check:
        problems = check_env(env)
        if problems:
            print('\nThe environment is not the one eofm is pinned to:', file=sys.stderr)
            for p in problems:
                print(f'  - {p}', file=sys.stderr)
            return 1
        print('\nenvironment OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
