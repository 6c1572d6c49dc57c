"""The environment check reports the real stack as OK and names what is off."""
import subprocess

from eofm.utils.collect_env import check_env, collect_env, read_pins


def test_installed_environment_passes_the_check():
    env = collect_env()
    assert check_env(env) == []
    assert env['mmcv ops'].startswith('compiled')


def test_pins_come_from_requirements():
    pins = read_pins()
    assert pins['torch'] == '2.13.0'
    assert pins['mmcv'] == '2.0.1'
    assert pins['mmrotate'] == '1.0.0rc1'


def test_check_names_each_problem():
    env = collect_env()
    env['torch'] = '2.5.0+cpu'
    env['mmcv ops'] = 'MISSING (ImportError: no _ext)'
    env['GDAL'] = 'NOT IMPORTABLE (ModuleNotFoundError: osgeo)'
    problems = '\n'.join(check_env(env))
    assert 'torch is 2.5.0+cpu, requirements pin torch==2.13.0' in problems
    assert 'mmcv has no compiled ops' in problems
    assert 'GDAL Python bindings missing' in problems


def test_cli_check_exit_code(python_exe, repo_root, cli_env):
    proc = subprocess.run([python_exe, '-m', 'eofm.utils.collect_env', '--check'],
                          cwd=repo_root, env=cli_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert 'environment OK' in proc.stdout
