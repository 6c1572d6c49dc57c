"""Measuring tools of the benchmark scripts (:mod:`eofm.utils.benchmark`)."""
import subprocess
import sys

import numpy as np

from eofm.utils.benchmark import peak_rss_bytes

CHILD = ('from eofm.utils.benchmark import peak_rss_bytes; '
         'print(peak_rss_bytes())')


def test_peak_rss_of_a_child_is_its_own(repo_root):
    """A child spawned after its parent held 400 MiB reports its own peak, not the
    parent's (``ru_maxrss`` would carry the parent's across fork + exec)."""
    big = np.ones(400 * 2**20 // 8)
    big += 1  # touch every page
    parent = peak_rss_bytes()
    assert parent > 400 * 2**20
    child = int(subprocess.run([sys.executable, '-c', CHILD], cwd=repo_root,
                               capture_output=True, text=True, check=True).stdout)
    assert 0 < child < parent - 300 * 2**20
    del big



def test_alternate_calls_the_functions_in_turn():
    from eofm.utils.benchmark import alternate
    order = []
    times = alternate(dict(a=lambda: order.append('a'), b=lambda: order.append('b')),
                      iters=3, warmup=1)
    assert order == ['a', 'b'] * 4  # one warm-up round, then three timed rounds
    assert {k: len(v) for k, v in times.items()} == dict(a=3, b=3)
    assert all(t >= 0 for v in times.values() for t in v)
