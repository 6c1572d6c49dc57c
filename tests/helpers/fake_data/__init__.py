"""Tiny fake datasets in the official directory layouts (the TorchGeo habit).

One module per benchmark, each with a ``make_<dataset>(root, ...)`` function that
writes a few samples of the real layout under ``root`` and returns what a test needs
to know about them. Import as ``from tests.helpers.fake_data.<module> import make_...``.
"""
