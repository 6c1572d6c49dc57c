"""model-index.yml and the per-model metafiles (OpenMMLab's model index)."""
import os.path as osp

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _entries():
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    out = []
    for rel in index['Import']:
        meta = yaml.safe_load(open(osp.join(ROOT, rel)))
        names = {c['Name'] for c in meta['Collections']}
        for model in meta['Models']:
            out.append((rel, names, model))
    return out


ENTRIES = _entries()


def test_every_model_folder_has_a_metafile_and_names_are_unique():
    index = yaml.safe_load(open(osp.join(ROOT, 'model-index.yml')))
    assert sorted(index['Import']) == sorted(
        f'configs/{m}/metafile.yml' for m in ('skysense', 'msgfm', 'omnisat', 'anysat'))
    names = [m['Name'] for _, _, m in ENTRIES]
    assert len(names) == len(set(names))
    # every config of a model folder is indexed (the alias aside)
    import glob
    for folder in ('skysense', 'msgfm', 'omnisat', 'anysat'):
        configs = {
            p for p in glob.glob(osp.join(ROOT, 'configs', folder, '*.py'))
            if not osp.basename(p).startswith('pretrain_80xa100')
        }
        indexed = {osp.join(ROOT, m['Config']) for _, _, m in ENTRIES}
        assert configs <= indexed, sorted(configs - indexed)


@pytest.mark.parametrize('rel,collections,model', ENTRIES,
                         ids=[m['Name'] for _, _, m in ENTRIES])
def test_entry_points_at_a_config_that_builds(rel, collections, model):
    """Its config exists, loads, and names model and dataset types that resolve
    in the registries of its scope."""
    from mmengine.registry import DATASETS, MODELS
    import eofm  # noqa: F401
    assert model['In Collection'] in collections
    assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]
    path = osp.join(ROOT, model['Config'])
    assert osp.isfile(path), path
    cfg = Config.fromfile(path)
    scope = cfg.get('default_scope', 'eofm')
    import importlib
    if scope != 'eofm':
        importlib.import_module(f'{scope}.utils').register_all_modules(False)
    with DefaultScope.overwrite_default_scope(scope):
        with MODELS.switch_scope_and_registry(scope) as registry:
            assert registry.get(cfg.model['type']) is not None, cfg.model['type']
        loader = cfg.get('train_dataloader') or cfg.get('test_dataloader')
        if loader:
            with DATASETS.switch_scope_and_registry(scope) as registry:
                assert registry.get(loader['dataset']['type']) is not None
    for result in model.get('Results') or []:
        assert result['Metrics'] and all(
            isinstance(v, float) for v in result['Metrics'].values())
