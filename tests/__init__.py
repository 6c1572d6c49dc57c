"""eofm's test suite (a package, so that ``tests.helpers`` is importable and test
modules of the same name in different folders do not clash)."""
