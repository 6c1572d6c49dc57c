"""Shared helpers of the test suite: config loading and shrinking (``config_helpers``,
``anysat_config_helpers``), tiny GeoTIFF writing (``fake_geo``), the real TreeSatAI-TS
tile (``treesatai_tile``), a transcription of AnySat's reference forward
(``anysat_reference``) and one fake-data generator per benchmark (``fake_data``).

Import as ``from tests.helpers.fake_geo import write_geotiff``; the repository root is
on ``sys.path`` through pytest's ``pythonpath`` setting (``setup.cfg``).
"""
import os.path as osp

#: The repository root (configs, tools and ``tests/data`` are found from here).
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
