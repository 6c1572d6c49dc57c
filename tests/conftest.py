import os
import sys

import pytest

import eofm  # noqa: F401 - compatibility fixes before any host library
from tests.helpers import ROOT

if os.environ.get('PYTEST_XDIST_WORKER'):  # `pytest -n N` (make test): share the cores
    import torch
    torch.set_num_threads(
        max(1, (os.cpu_count() or 1) // int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', 1))))

# The fast tier (``make test-fast``) leaves out the slow kinds of test, found here so
# that a new test of those kinds is never forgotten: every test of a config (built
# and run through the runner), every test that starts a tool in a subprocess (it
# takes the ``python_exe`` / ``cli_env`` fixtures) and modules that mark themselves
# (``pytestmark = pytest.mark.slow``: multi-process, long training runs).
SLOW_DIRS = ('test_configs', )
SLOW_FIXTURES = frozenset({'python_exe', 'cli_env'})


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, 'fixturenames', ())) or any(
                d in item.path.parts for d in SLOW_DIRS):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def free_port():
    """A TCP port free on this machine now (for launchers: tests run in parallel)."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]
