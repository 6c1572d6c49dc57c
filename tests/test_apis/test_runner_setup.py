"""What the runner set-up does to every config: exact resume cannot be lost."""
from mmengine.config import Config

import eofm.apis.runner_setup as runner_setup
from eofm.apis.runner_setup import ensure_exact_resume_hook


def test_exact_resume_hook_is_added_when_a_config_list_drops_it(monkeypatch):
    logged = []  # (where MMEngine's 'current' logger prints depends on earlier tests)
    monkeypatch.setattr(runner_setup, 'print_log', lambda msg, **kw: logged.append(msg))
    # a config whose custom_hooks list replaced the runtime's (MMEngine merges lists
    # by replacing them): the hook comes back in front, and the log says so
    cfg = Config(dict(custom_hooks=[dict(type='EarlyStoppingHook', monitor='acc')]))
    ensure_exact_resume_hook(cfg)
    assert [h['type'] for h in cfg.custom_hooks
            ] == ['eofm.ExactResumeHook', 'EarlyStoppingHook']
    assert any('eofm.ExactResumeHook added to custom_hooks' in m for m in logged)
    # present (with or without the scope prefix): left as it is
    for name in ('eofm.ExactResumeHook', 'ExactResumeHook'):
        cfg = Config(dict(custom_hooks=[dict(type=name)]))
        assert [h['type'] for h in ensure_exact_resume_hook(cfg).custom_hooks] == [name]
    cfg = Config(dict())
    assert [h['type'] for h in ensure_exact_resume_hook(cfg).custom_hooks
            ] == ['eofm.ExactResumeHook']


def test_no_config_repeats_the_hook():
    """The configs leave it to the runtime and the runner set-up (one place)."""
    import glob
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    repeating = [
        p for p in glob.glob(osp.join(root, 'configs', '**', '*.py'), recursive=True)
        if 'ExactResumeHook' in open(p).read()
        and not p.endswith(osp.join('_base_', 'default_runtime.py'))
    ]
    assert repeating == []
