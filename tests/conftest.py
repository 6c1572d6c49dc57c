import os
import os.path as osp
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The repo (for `tools`) and this folder (for the fake-data helpers such as
# `fake_geo`; a `tests` package of another distribution may shadow `tests.`).
for path in (ROOT, osp.join(ROOT, 'tests')):
    if path not in sys.path:
        sys.path.insert(0, path)

import eofm  # noqa: E402,F401 - compatibility fixes before any host library


@pytest.fixture(scope='session')
def repo_root():
    return ROOT


@pytest.fixture(scope='session')
def python_exe():
    return sys.executable


@pytest.fixture
def cli_env():
    """Environment for tool subprocesses: the repo importable, no GPUs, quiet threads."""
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['PYTHON'] = sys.executable
    return env
