"""tools/analysis_tools/benchmark_table.py: several checkpoints on one
split, the paper's table as Markdown, CSV and PNG."""
import csv
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmrrsis.datasets.synthetic import make_synthetic_refsegrs
from mmrrsis.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools/analysis_tools/benchmark_table.py')
TINY = {
    'LSCM': 'configs/tiny/lscm_r18-tiny_refsegrs-64x64.py',
    'LAVT': 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py',
}


def _checkpoint(config: str, path: str) -> str:
    init_default_scope('mmrrsis')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(REPO, config)).model)
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def _run(args, tmp_path):
    return subprocess.run(
        [sys.executable, TOOL, *args, '--work-dir',
         str(tmp_path / 'work')],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env=dict(os.environ, OMP_NUM_THREADS='1'))


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench')
    data = str(root / 'data')
    make_synthetic_refsegrs(data, 6, size=64, seed=3, show_progress=False)
    ckpts = {
        name: _checkpoint(cfg, str(root / f'{i}.pth'))
        for i, (name, cfg) in enumerate(TINY.items())
    }
    options = [f'{s}_dataloader.dataset.data_root={data}'
               for s in ('train', 'val', 'test')]
    return data, ckpts, options


def test_writes_the_paper_table_csv_and_plot(tiny_set, tmp_path):
    data, ckpts, options = tiny_set
    models = [f'{name}={TINY[name]}:{ckpts[name]}' for name in TINY]
    out = str(tmp_path / 'table.md')
    proc = _run([*models, '--split', 'test', '--out', out, '--shuffled',
                 '--area-bins', '0', '0.05', '1', '--cfg-options',
                 *options], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = open(out).read()
    assert '| method | P@0.5 | P@0.6 | P@0.7 | P@0.8 | P@0.9 | oIoU | mIoU |' \
        in text
    for name in TINY:
        assert f'| {name} |' in text
        assert f'| {name}, expressions shuffled |' in text
    assert '0-5% (n=' in text and '5-100% (n=' in text
    with open(out.replace('.md', '.json')) as f:
        result = json.load(f)
    rows = result['rows']
    assert [(r['name'], r['text']) for r in rows] == [
        (n, t) for n in TINY for t in ('true', 'shuffled')
    ]
    # the table shows the metric's numbers, rounded
    lscm = rows[0]['metrics']
    line = [ln for ln in text.splitlines() if ln.startswith('| LSCM |')][0]
    cells = [c.strip() for c in line.strip('|').split('|')]
    assert cells[6:8] == [f'{lscm["oIoU"]:.2f}', f'{lscm["mIoU"]:.2f}']
    # the size bins split the samples
    n = result['runs'][0]['num_samples']
    assert lscm['area_0-5%_samples'] + lscm['area_5-100%_samples'] == n
    assert len({r['fingerprint'] for r in result['runs']}) == 1
    with open(out.replace('.md', '.csv')) as f:
        table = list(csv.reader(f))
    assert table[0][:4] == ['method', 'text', 'config', 'checkpoint']
    assert len(table) == 1 + 2 * len(TINY)
    png = out.replace('.md', '.png')
    assert osp.getsize(png) > 1000
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'


def test_bad_model_argument_is_one_line():
    spec = importlib.util.spec_from_file_location('benchmark_table', TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    with pytest.raises(SystemExit, match='^error: .* is not '
                       r'\[NAME=\]CONFIG.py:CHECKPOINT'):
        tool.main(['configs/tiny/lscm_r18-tiny_refsegrs-64x64.py'])
