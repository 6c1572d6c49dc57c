"""Shared helpers of the test suite: config loading and shrinking (``config_helpers``,
``anysat_config_helpers``), tiny GeoTIFF writing (``fake_geo``), the real TreeSatAI-TS
tile (``treesatai_tile``), a transcription of AnySat's reference forward
(``anysat_reference``), one fake-data generator per benchmark (``fake_data``) and the
builders of a benchmark's dataset from its base config (``dataset_helpers``,
``host_dataset_helpers`` for the datasets of the host libraries).

Import as ``from tests.helpers.fake_geo import write_geotiff``; the repository root is
on ``sys.path`` through pytest's ``pythonpath`` setting (``setup.cfg``).
"""
import os.path as osp

#: The repository root (configs, tools and ``tests/data`` are found from here).
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
