"""Annotation files are read without running code from them, with clear errors."""
import json
import pickle

import numpy as np
import pytest

from eofm.datasets.annotation_files import AnnotationFileError, load_annotation_file
from eofm.registry import DATASETS


class _Exploit:
    """Unpickling it would create a marker file (what an attacker's file does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def _sample(root):
    from eofm.datasets.sample_data import generate
    generate(str(root), num_tiles=2)
    return json.load(open(root / 'train.json'))


def test_a_malicious_pickle_runs_nothing(tmp_path):
    marker = tmp_path / 'pwned'
    ann = dict(metainfo={}, data_list=[dict(sample_id='x', payload=_Exploit(str(marker)))])
    path = tmp_path / 'ann.pkl'
    path.write_bytes(pickle.dumps(ann))
    with pytest.raises(AnnotationFileError, match=r"ann.pkl: refusing to load .*open"):
        load_annotation_file(str(path))
    assert not marker.exists()
    # through the dataset, as tools/train.py and check_dataset.py open it
    with pytest.raises(AnnotationFileError, match='refusing'):
        DATASETS.build(dict(type='eofm.MultiModalDataset', ann_file=str(path),
                            pipeline=[]))
    assert not marker.exists()


def test_yaml_python_tags_are_refused(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'ann.yaml'
    path.write_text(f"metainfo: {{}}\ndata_list: !!python/object/apply:os.system "
                    f"['touch {marker}']\n")
    with pytest.raises(AnnotationFileError, match='ann.yaml: not plain YAML data'):
        load_annotation_file(str(path))
    assert not marker.exists()


def test_plain_pickle_and_yaml_load_as_json_does(tmp_path):
    ann = _sample(tmp_path / 'data')
    ann['data_list'][0]['weights'] = np.arange(3, dtype=np.float32)
    pkl = tmp_path / 'data' / 'train.pkl'
    pkl.write_bytes(pickle.dumps(ann))
    got = load_annotation_file(str(pkl))
    assert got['data_list'][0]['sample_id'] == ann['data_list'][0]['sample_id']
    assert np.array_equal(got['data_list'][0]['weights'], np.arange(3))
    ds = DATASETS.build(dict(type='eofm.MultiModalDataset', data_root=str(tmp_path / 'data'),
                             ann_file='train.pkl', pipeline=[]))
    assert len(ds) == len(ann['data_list']) and ds.metainfo['classes'][0] == 'water'


def test_malformed_files_name_file_and_place(tmp_path):
    bad = tmp_path / 'ann.json'
    bad.write_text('{"metainfo": {}, "data_list": [\n  {"sample_id": "a",}\n]}')
    with pytest.raises(AnnotationFileError, match=r'ann.json: invalid JSON at line 2'):
        DATASETS.build(dict(type='eofm.MultiModalDataset', ann_file=str(bad), pipeline=[]))
    wrong = tmp_path / 'list.json'
    wrong.write_text('[1, 2]')
    with pytest.raises(AnnotationFileError, match=r'list.json: expected a mapping with '
                       '"data_list"'):
        DATASETS.build(dict(type='eofm.MultiModalDataset', ann_file=str(wrong), pipeline=[]))
    trunc = tmp_path / 'cut.pkl'
    trunc.write_bytes(pickle.dumps(dict(data_list=[1, 2, 3]))[:-3])
    with pytest.raises(AnnotationFileError, match='cut.pkl: not a readable pickle'):
        load_annotation_file(str(trunc))
    other = tmp_path / 'ann.csv'
    other.write_text('a,b')
    with pytest.raises(AnnotationFileError, match=r"\.json, \.yaml / \.yml or \.pkl"):
        load_annotation_file(str(other))
    assert not any(p.name == 'pwned' for p in tmp_path.iterdir())
