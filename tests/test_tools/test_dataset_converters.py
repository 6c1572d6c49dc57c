"""The dataset converters of tools/dataset_converters answer ``--help``."""
import pytest

import eofm  # noqa: F401 - compatibility fixes and eofm's registries
from tools.dataset_converters import dota_split, fair1m_to_dota, isaid, scene_splits


@pytest.mark.parametrize('tool', [isaid, fair1m_to_dota, dota_split, scene_splits])
def test_converters_help(tool, capsys):
    with pytest.raises(SystemExit) as exc:
        tool.parse_args(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert 'usage:' in out and '--out-dir' in out and '--nproc' in out
