"""tools/misc/dicor_pipeline.sh: the six steps in order, each tool called
with arguments its parser takes, every file a step reads written by an
earlier step, the overridden config keys present in the stage configs;
``FROM`` continues a stopped pipeline. The tools are replaced by a stand-in
``PYTHON`` that records its calls and writes the files a real run writes
(the real stages run in tests/test_integration/test_dicor_pipeline.py)."""
import importlib.util
import json
import os
import os.path as osp
import stat
import subprocess
import sys

import pytest
from mmengine import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(REPO, 'tools', 'misc', 'dicor_pipeline.sh')

# the stand-in interpreter: records argv and writes what each tool writes
FAKE_TOOLS = r'''
import glob, json, os, os.path as osp, sys
tool, args = sys.argv[1], sys.argv[2:]
record = dict(tool=tool, argv=args, missing=[])
def need(path):
    if not osp.exists(path):
        record['missing'].append(path)
def option(flag):
    return args[args.index(flag) + 1] if flag in args else None
if tool == 'tools/train.py':
    work = option('--work-dir')
    for item in args:
        key, _, value = item.partition('=')
        if key in ('load_from', 'train_dataloader.dataset.bank_dir',
                   'model.refiner.init_cfg.checkpoint'):
            need(value)
    os.makedirs(work, exist_ok=True)
    names = ['epoch_1.pth', 'epoch_2.pth', 'best.pth']
    if 'coarse' in osp.basename(args[0]):
        names += ['snapshot_epoch_1.pth', 'snapshot_epoch_2.pth']
    for name in names:
        open(osp.join(work, name), 'w').close()
    with open(osp.join(work, 'last_checkpoint'), 'w') as f:
        f.write(osp.abspath(osp.join(work, 'epoch_2.pth')))
elif tool == 'tools/misc/build_prompt_bank.py':
    work = args[1]
    if not glob.glob(osp.join(work, 'snapshot_epoch_*.pth')):
        record['missing'].append(osp.join(work, 'snapshot_epoch_*.pth'))
    os.makedirs(osp.join(work, 'prompt_bank'), exist_ok=True)
    open(osp.join(work, 'prompt_bank', 'manifest.json'), 'w').close()
elif tool == 'tools/test.py':
    need(args[1])
else:
    sys.exit(f'unexpected tool {tool}')
with open(os.environ['CALLS'], 'a') as f:
    f.write(json.dumps(record) + '\n')
'''


@pytest.fixture
def fake_python(tmp_path):
    """An executable ``PYTHON`` running the stand-in tools."""
    script = tmp_path / 'fake_tools.py'
    script.write_text(FAKE_TOOLS)
    wrapper = tmp_path / 'fake_python'
    wrapper.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper)


def run_pipeline(tmp_path, fake_python, *args, **env):
    calls = tmp_path / 'calls.jsonl'
    full_env = dict(
        os.environ, PYTHON=fake_python, CALLS=str(calls),
        WORK=str(tmp_path / 'work'), **env)
    proc = subprocess.run(['bash', SCRIPT, *args], env=full_env,
                          capture_output=True, text=True, timeout=60)
    records = []
    if calls.exists():
        records = [json.loads(line) for line in calls.read_text().split(
            '\n') if line]
    return proc, records


def load_tool(path):
    name = 'pipeline_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def has_key(cfg, dotted):
    node = cfg
    for part in dotted.split('.'):
        if part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize('dataset,scale', [('synthetic', 'swin-mini'),
                                           ('refsegrs', 'swin-b'),
                                           ('rrsisd', 'swin-b'),
                                           ('risbench', 'swin-b')])
def test_all_steps_in_order(tmp_path, fake_python, dataset, scale):
    proc, records = run_pipeline(tmp_path, fake_python, dataset, '1',
                                 '--amp')
    assert proc.returncode == 0, proc.stderr
    assert [r['tool'] for r in records] == [
        'tools/train.py', 'tools/misc/build_prompt_bank.py',
        'tools/train.py', 'tools/train.py', 'tools/train.py',
        'tools/test.py'
    ]
    # each step found the files of the steps before it
    assert [r['missing'] for r in records] == [[]] * 6
    configs = [r['argv'][0] for r in records]
    stages = ['coarse', 'coarse', 'refiner', 'guide', 'joint', 'dicor_']
    for config, stage in zip(configs, stages):
        assert stage in config and scale in config, (stage, config)
        assert dataset in config, (dataset, config)
        assert osp.isfile(osp.join(REPO, config)), config
    work = str(tmp_path / 'work')
    coarse, refiner, guide, joint = records[0], *records[2:5]
    assert coarse['argv'][1:] == ['--work-dir', f'{work}/coarse', '--amp']
    assert records[1]['argv'][1] == f'{work}/coarse'
    bank = f'train_dataloader.dataset.bank_dir={work}/coarse/prompt_bank'
    for record in (refiner, guide):
        assert f'load_from={work}/coarse/best.pth' in record['argv']
        assert bank in record['argv']
    # the joint stage starts from the guide's last epoch (as the reference)
    assert f'load_from={work}/guide/epoch_2.pth' in joint['argv']
    assert (f'model.refiner.init_cfg.checkpoint={work}/refiner/best.pth'
            in joint['argv'])
    assert records[5]['argv'][1] == f'{work}/joint/best.pth'
    assert all(r['argv'][-1] == '--amp' for r in records if r['tool'] ==
               'tools/train.py')
    assert '--amp' not in records[1]['argv'] + records[5]['argv']
    assert [line.split(':')[0] for line in proc.stdout.splitlines()
            if line.startswith('step ')] == [
                'step 1 coarse', 'step 2 prompt-bank', 'step 3 refiner',
                'step 4 guide', 'step 5 joint', 'step 6 test'
            ]

    # the tools' own parsers take these arguments, and every overridden
    # key is one the stage's config has (not a new, ignored key)
    parsers = {
        path: load_tool(path).parse_args
        for path in ('tools/train.py', 'tools/misc/build_prompt_bank.py',
                     'tools/test.py')
    }
    for record in records:
        args = parsers[record['tool']](record['argv'])
        cfg = Config.fromfile(osp.join(REPO, args.config))
        for key in (getattr(args, 'cfg_options', None) or {}):
            assert has_key(cfg, key), (args.config, key)


def test_from_continues_a_stopped_pipeline(tmp_path, fake_python):
    proc, _ = run_pipeline(tmp_path, fake_python, 'synthetic')
    assert proc.returncode == 0, proc.stderr
    os.remove(tmp_path / 'calls.jsonl')
    proc, records = run_pipeline(tmp_path, fake_python, 'synthetic', FROM='5')
    assert proc.returncode == 0, proc.stderr
    assert [r['tool'] for r in records] == ['tools/train.py', 'tools/test.py']
    assert 'joint' in records[0]['argv'][0]
    assert [r['missing'] for r in records] == [[], []]
    assert '=== step 4' not in proc.stdout


def test_a_failing_step_stops_the_pipeline(tmp_path, fake_python):
    # a tool that exits non-zero ends the script with its status
    failing = tmp_path / 'failing_python'
    failing.write_text('#!/bin/sh\nexit 3\n')
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    proc, records = run_pipeline(tmp_path, str(failing), 'synthetic')
    assert proc.returncode == 3
    assert '=== step 1' in proc.stdout and '=== step 2' not in proc.stdout


def test_unknown_set(tmp_path, fake_python):
    proc, records = run_pipeline(tmp_path, fake_python, 'refcoco')
    assert proc.returncode == 2 and records == []
    assert "unknown set 'refcoco'" in proc.stderr
