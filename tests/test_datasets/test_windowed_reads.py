"""A crop of a large scene reads only the blocks under it (not the whole file)."""
from tools.analysis_tools.benchmark_loading import windowed_reads, write_scene


def test_windowed_reads_touch_only_the_window(tmp_path):
    path = write_scene(str(tmp_path / 'scene.tif'), 4096, block=256)
    mean, peak, total = windowed_reads(path, window=256, samples=10)
    assert total > 32 * 2**20  # 4096^2 px of uint16
    # A 256 px window covers at most 2 x 2 blocks of 128 KiB, plus the header.
    assert peak < 4 * 128 * 2**10 + 64 * 2**10
    assert mean < 0.02 * total
