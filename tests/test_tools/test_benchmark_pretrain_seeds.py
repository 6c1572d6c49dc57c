"""benchmark_pretrain_seeds: the table over pretraining seeds, from the reports."""
import json

from tools.analysis_tools.benchmark_pretrain_seeds import main


def _report(path, pretrained, random, ci=0.02):
    rows = []
    for model, acc in (('pretrained teacher', pretrained), ('random init', random)):
        for probe_seed, jitter in enumerate((-0.01, 0.0, 0.01)):
            a = acc + jitter
            rows.append(dict(model=model, level='pixel', probe='knn', fraction=0.05,
                             seed=probe_seed, accuracy=a, ci_low=a - ci, ci_high=a + ci))
    path.mkdir(parents=True)
    (path / 'linear_probe.json').write_text(json.dumps(dict(rows=rows)))


def test_summary_orders_margins_and_intervals(tmp_path, capsys):
    _report(tmp_path / 'seed0', 0.80, 0.60)
    _report(tmp_path / 'seed1', 0.70, 0.67)  # above, but the intervals overlap
    _report(tmp_path / 'seed2', 0.60, 0.62)  # below: the ordering fails
    (row, ) = main(['--work-dir', str(tmp_path), '--summary-only'])
    assert row['seeds'] == [0, 1, 2]
    assert [round(v, 3) for v in row['pretrained']] == [0.8, 0.7, 0.6]
    assert round(row['margin_mean'], 3) == round((0.2 + 0.03 - 0.02) / 3, 3)
    assert round(row['margin_min'], 3) == -0.02
    assert row['ordering_holds'] is False
    assert row['outside_intervals'] == [True, False, False]
    table = capsys.readouterr().out
    assert '| pixel | knn | 5 % | 0.800, 0.700, 0.600 | 0.600, 0.670, 0.620 |' in table
    assert '| no | 1 of 3 |' in table
    saved = json.loads((tmp_path / 'seeds_summary.json').read_text())
    assert saved['seeds'] == [0, 1, 2] and saved['rows'][0]['ordering_holds'] is False
    # the two seeds where it holds
    (row, ) = main(['--work-dir', str(tmp_path), '--summary-only', '--seeds', '0', '1'])
    assert row['ordering_holds'] is True
