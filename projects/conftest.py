"""pytest set-up of the projects' tests: the repo root importable (``projects.*``,
``tools``), eofm's compatibility fixes first."""
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import eofm  # noqa: E402,F401
