"""Metrics eofm adds to the host libraries'."""
from .metrics import *  # noqa: F401,F403
