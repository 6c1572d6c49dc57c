"""Imports run down the floors: utils / structures / datasets never import models, and
no model package imports another model package."""
import ast
import os.path as osp
from pathlib import Path

import pytest

EOFM = Path(__file__).resolve().parents[1] / 'eofm'
LOWER_FLOORS = ('utils', 'structures', 'datasets')
MODEL_PACKAGES = ('skysense', 'msgfm', 'omnisat', 'anysat')


def _imported_modules(path):
    """Absolute names of the eofm modules ``path`` imports (relative ones resolved)."""
    rel = path.relative_to(EOFM.parent).with_suffix('')
    package = list(rel.parts[:-1])  # a module's package; an __init__'s own
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ''
            yield node.lineno, name
            for alias in node.names:  # `from eofm import models`
                yield node.lineno, f'{name}.{alias.name}'


def _modules(floor):
    return sorted((EOFM / floor).rglob('*.py'))


@pytest.mark.parametrize('floor', LOWER_FLOORS)
def test_lower_floors_never_import_models(floor):
    bad = [
        f'{p.relative_to(EOFM.parent)}:{line} imports {name}'
        for p in _modules(floor) for line, name in _imported_modules(p)
        if name == 'eofm.models' or name.startswith('eofm.models.')
    ]
    assert not bad, '\n'.join(bad)


def test_model_packages_do_not_import_each_other():
    bad = []
    for pkg in MODEL_PACKAGES:
        if not (EOFM / 'models' / pkg).is_dir():
            continue
        others = [f'eofm.models.{o}' for o in MODEL_PACKAGES if o != pkg]
        for p in _modules(osp.join('models', pkg)):
            for line, name in _imported_modules(p):
                if any(name == o or name.startswith(o + '.') for o in others):
                    bad.append(f'{p.relative_to(EOFM.parent)}:{line} imports {name}')
    assert not bad, '\n'.join(bad)


def test_the_rule_resolves_relative_imports():
    # the resolver sees through relative imports (what the rule is about)
    names = [n for _, n in _imported_modules(EOFM / 'datasets' / 'transforms' /
                                             'loading.py')]
    assert 'eofm.datasets.geo_io' in names and 'eofm.registry' in names
