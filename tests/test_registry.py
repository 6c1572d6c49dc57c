"""eofm's child registries resolve from every host scope, and back."""
import pytest
import torch
from mmengine.registry import DefaultScope


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmseg', 'mmdet', 'mmrotate'])
def test_eofm_types_resolve_from_host_scope(scope):
    import importlib
    registry = importlib.import_module(f'{scope}.registry')
    with DefaultScope.overwrite_default_scope(scope):
        backbone = registry.MODELS.build(
            dict(type='eofm.SimpleConvNet', in_channels=3, channels=(4, )))
        dataset_cls = registry.DATASETS.get('eofm.SyntheticClassificationDataset')
        hook_cls = registry.HOOKS.get('eofm.ExactResumeHook')
    assert type(backbone).__name__ == 'SimpleConvNet'
    assert dataset_cls.__name__ == 'SyntheticClassificationDataset'
    assert hook_cls.__name__ == 'ExactResumeHook'


def test_eofm_registry_builds_host_modules_with_scope_prefix():
    from eofm.registry import MODELS
    with DefaultScope.overwrite_default_scope('eofm'):
        head = MODELS.build(
            dict(type='mmseg.FCNHead', in_channels=8, channels=8, num_classes=3,
                 num_convs=1))
        neck = MODELS.build(dict(type='mmdet.FPN', in_channels=[4, 8], out_channels=8,
                                 num_outs=2))
        pool = MODELS.build(dict(type='mmpretrain.GlobalAveragePooling'))
    assert type(head).__module__.startswith('mmseg')
    assert type(neck).__module__.startswith('mmdet')
    assert pool(torch.ones(1, 2, 3, 3)).shape == (1, 2)


def test_registries_are_children_of_mmengine_roots():
    import mmengine.registry as root

    import eofm.registry as reg
    for name in reg.__all__:
        child = getattr(reg, name)
        assert child.scope == 'eofm'
        assert child.parent is getattr(root, 'EVALUATOR' if name == 'EVALUATORS'
                                       else name)


def test_register_all_modules_sets_default_scope():
    from eofm.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    assert DefaultScope.get_current_instance().scope_name == 'eofm'


def test_simple_convnet_bad_channels_message():
    from eofm.models import SimpleConvNet
    net = SimpleConvNet(in_channels=4)
    with pytest.raises(ValueError, match=r'expects \(B, 4, H, W\)'):
        net(torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize('host', ['mmpretrain', 'mmseg', 'mmdet', 'mmrotate', 'eofm'])
def test_default_runtimes_resolve_in_their_scope(host, repo_root):
    import importlib
    import os.path as osp

    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(repo_root, 'configs', '_base_',
                                   f'default_runtime_{host}.py'))
    assert cfg.default_scope == host
    assert cfg.custom_imports.imports == ['eofm']
    registry = importlib.import_module(f'{host}.registry')
    with DefaultScope.overwrite_default_scope(host):
        for hook in [*cfg.default_hooks.values(), *cfg.custom_hooks]:
            assert registry.HOOKS.get(hook['type']) is not None, hook
        assert registry.VISUALIZERS.get(cfg.visualizer['type']) is not None
