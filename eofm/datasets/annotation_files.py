"""Reading annotation files without running code from them.

MMEngine's ``load()`` reads a ``.pkl`` annotation file with ``pickle.load`` and a
YAML one with PyYAML's full ``Loader``: a crafted file runs arbitrary code when a
dataset (or ``tools/misc/check_dataset.py``) opens it. eofm's datasets read their
annotation files here instead:

* JSON: ``json.load``; a syntax error names the file, line and column;
* YAML: ``yaml.safe_load`` (plain mappings, lists, strings, numbers);
* pickle: an unpickler that reconstructs plain containers, numbers, strings and
  numpy arrays only, and refuses any other class or function, naming it and the
  file (eofm writes JSON; pickled annotations of other tools are plain data).
"""
import io
import json
import os.path as osp
import pickle

__all__ = ['load_annotation_file', 'AnnotationFileError', 'SafeUnpickler']


class AnnotationFileError(ValueError):
    """An annotation file that cannot be read safely or is malformed."""


# Globals a pickle of plain data (and numpy arrays) needs, and nothing else.
_ALLOWED = {
    ('builtins', name)
    for name in ('dict', 'list', 'tuple', 'set', 'frozenset', 'int', 'float', 'complex',
                 'str', 'bytes', 'bytearray', 'bool', 'slice', 'range')
} | {
    ('collections', 'OrderedDict'),
    ('collections', 'defaultdict'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'core.multiarray._reconstruct'),
}
_NUMPY_SCALARS = ('float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8',
                  'uint8', 'uint16', 'uint32', 'uint64', 'bool_', 'str_')


class SafeUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that builds plain data only (see the module docstring)."""

    def __init__(self, file, source='the pickle'):
        super().__init__(file)
        self.source = source

    def find_class(self, module, name):
        if (module, name) in _ALLOWED or (module == 'numpy' and name in _NUMPY_SCALARS):
            return super().find_class(module, name)
        raise AnnotationFileError(
            f'{self.source}: refusing to load {module}.{name} from a pickled annotation '
            'file (it could run code); annotation files hold plain data: convert it to '
            'JSON')


def load_annotation_file(path):
    """The content of a JSON / YAML / pickle annotation file, read safely."""
    ext = osp.splitext(path)[1].lower()
    try:
        with open(path, 'rb') as f:
            raw = f.read()
    except OSError as e:
        raise AnnotationFileError(f'{path}: cannot be read ({e.strerror})') from e
    if ext == '.json':
        try:
            return json.loads(raw.decode('utf-8'))
        except UnicodeDecodeError as e:
            raise AnnotationFileError(f'{path}: not UTF-8 text ({e})') from e
        except json.JSONDecodeError as e:
            raise AnnotationFileError(f'{path}: invalid JSON at line {e.lineno}, column '
                                      f'{e.colno}: {e.msg}') from e
    if ext in ('.yaml', '.yml'):
        import yaml
        try:
            return yaml.safe_load(raw.decode('utf-8'))
        except yaml.YAMLError as e:
            raise AnnotationFileError(f'{path}: not plain YAML data ({e})') from e
    if ext in ('.pkl', '.pickle'):
        try:
            return SafeUnpickler(io.BytesIO(raw), path).load()
        except AnnotationFileError:
            raise
        except Exception as e:  # noqa: BLE001 - truncated or corrupt, named with the path
            raise AnnotationFileError(f'{path}: not a readable pickle '
                                      f'({type(e).__name__}: {e})') from e
    raise AnnotationFileError(f'{path}: annotation files are .json, .yaml / .yml or '
                              f'.pkl, got {ext or "no extension"!r}')
