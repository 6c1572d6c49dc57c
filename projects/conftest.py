"""pytest set-up of the projects' tests: eofm's compatibility fixes first (the repo
root, for ``projects.*``, is on ``sys.path`` through pytest's ``pythonpath``)."""
import eofm  # noqa: F401
