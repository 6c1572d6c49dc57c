"""tools/analysis_tools/benchmark_scene_inference.py on tiny scenes: every run and
ratio is reported (no timing is asserted)."""
import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_benchmark_reports_every_run_and_ratio(tmp_path, repo_root, cli_env):
    out = tmp_path / 'results.json'
    r = subprocess.run([sys.executable, 'tools/analysis_tools/benchmark_scene_inference.py',
                        '--sizes', '192', '320', '--tile', '128', '--threads', '1',
                        '--work-dir', str(tmp_path / 'work'), '--out', str(out)],
                       cwd=repo_root, env=cli_env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(out.read_text())
    runs = {(x['tool'], x['blend'], x['size']): x for x in report['runs']}
    assert set(runs) == {(t, b, s) for t, b in (('eofm', 'cosine'), ('eofm', 'none'),
                                               ('mmseg', 'none')) for s in (192, 320)}
    assert all(x['windows_per_s'] > 0 and x['peak_rss_mib'] > 0 for x in runs.values())
    # 320 px in windows of 128: 3 x 3 without overlap (both tools), 3 x 3 at a
    # stride of 96 with the last window aligned to the end
    assert runs['mmseg', 'none', 320]['windows'] == runs['eofm', 'none', 320][
        'windows'] == 9
    assert runs['eofm', 'cosine', 320]['windows'] == 9
    assert set(report['ratios']) >= {'eofm_cosine_over_mmseg_pixels_per_s_320',
                                     'peak_rss_eofm_cosine_320_over_192'}
    assert report['machine']['precision_auto'] in ('fp32', 'bf16')
    assert '| mmseg | none | 320^2 |' in report['table']
    # eofm's block files are reported (no window runs twice: a few MiB here), and
    # each run's outputs and the scenes are gone once measured
    assert all(runs['eofm', b, s]['block_files_mib'] >= 0 for b in ('cosine', 'none')
               for s in (192, 320))
    assert runs['mmseg', 'none', 320]['block_files_mib'] is None
    assert sorted(p.name for p in (tmp_path / 'work').iterdir()
                  if p.name.startswith(('out_', 'scene_'))) == []
