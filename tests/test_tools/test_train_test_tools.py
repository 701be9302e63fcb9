"""tools/train.py, tools/test.py, dist_*.sh, analyze_logs and benchmark.

Runs the real command lines on the tiny LAVT config and a generated
RefSegRS folder, on CPU:

- ``dist_train.sh CONFIG 2`` with gloo trains and evaluates;
- a checkpoint evaluated with 1 and with 2 processes gives the same
  metrics (5 samples: the distributed sampler pads one), and every sample
  is written once;
- a run stopped after epoch 1 continues with ``--resume`` at the right
  iteration with the saved optimizer and scheduler state;
- a checkpoint of another model is refused.
"""
import glob
import importlib.util
import json
import math
import os
import os.path as osp
import socket
import subprocess
import sys

import cv2
import pytest
import torch

from mmrrsis.apis import inference_model, init_model
from mmrrsis.datasets.synthetic import make_synthetic_refsegrs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LAVT_TINY = osp.join(ROOT, 'configs/tiny/lavt_swin-tiny_refsegrs-64x64.py')
LGCE_TINY = osp.join(ROOT, 'configs/tiny/lgce_swin-tiny_refsegrs-64x64.py')
BASE_LR = 1e-3  # the tiny configs' learning rate
NUM_EVAL = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run(cmd, **env):
    full_env = dict(os.environ, OMP_NUM_THREADS='1', PYTHON=sys.executable)
    full_env.update(env)
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300)
    return proc


def check(proc):
    assert proc.returncode == 0, (proc.stdout[-4000:] + '\n' +
                                  proc.stderr[-4000:])
    return proc


def load_module(path):
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def scalars(work_dir):
    records = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data',
                                   'scalars.json')):
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def read_test_metrics(work_dir):
    """Metrics dumped by the LoggerHook after testing."""
    found = [
        p for p in glob.glob(osp.join(work_dir, '*', '*.json'))
        if not p.endswith('scalars.json')
    ]
    assert len(found) == 1, found
    with open(found[0]) as f:
        return json.load(f)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    """A generated RefSegRS folder and the options pointing at it."""
    root = str(tmp_path_factory.mktemp('refsegrs'))
    make_synthetic_refsegrs(root, num_images=4, size=64, seed=1)
    lines = []
    for split in ('val', 'test', 'train'):
        with open(osp.join(root, f'output_phrase_{split}.txt')) as f:
            lines += [line for line in f if line.strip()]
    # an odd number of samples: 2 processes pad the last batch
    with open(osp.join(root, 'eval5.txt'), 'w') as f:
        f.writelines(lines[:NUM_EVAL])
    with open(osp.join(root, 'output_phrase_train.txt')) as f:
        num_train = sum(1 for line in f if line.strip())
    options = [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}',
        'val_dataloader.dataset.ann_file=eval5.txt',
        'test_dataloader.dataset.ann_file=eval5.txt',
        'randomness.seed=0',
    ]
    return dict(root=root, options=options, num_train=num_train)


@pytest.fixture(scope='module')
def random_ckpt(tmp_path_factory, data):
    """Random weights whose masks cover about half of each image, so the
    metrics are neither 0 nor 100."""
    path = str(tmp_path_factory.mktemp('ckpt') / 'lavt_tiny_random.pth')
    torch.manual_seed(3)
    model = init_model(LAVT_TINY, device='cpu')
    image = osp.join(data['root'], 'images', '0.tif')
    logits = inference_model(model, image, 'the car').seg_logits.data
    with torch.no_grad():  # balance the two classes' logits
        model.decode_head.conv_seg.bias[1] += (logits[0] -
                                               logits[1]).median()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def test_dist_train_two_processes_gloo(tmp_path, data):
    work_dir = str(tmp_path / 'dist_train')
    proc = check(
        run([
            'bash', 'tools/dist_train.sh', LAVT_TINY, '2', '--work-dir',
            work_dir, '--cfg-options', 'env_cfg.dist_cfg.backend=gloo',
            'train_cfg.max_epochs=1', *data['options']
        ],
            PORT=str(free_port())))
    log = open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    records = scalars(work_dir)
    # each rank gets ceil(num_train / 2) samples, in batches of 2
    iters = math.ceil(math.ceil(data['num_train'] / 2) / 2)
    assert max(r.get('iter', 0) for r in records) == iters
    # it evaluated: the metrics of the 5 validation samples were logged
    val = [r for r in records if 'oIoU' in r]
    assert len(val) == 1 and 'Prec@0.5' in val[0]
    assert 'referring segmentation (original resolution)' in log
    assert '|    5    |' in log, proc.stdout[-2000:]  # 5 samples counted


def test_eval_one_and_two_processes_agree(tmp_path, data, random_ckpt):
    one_dir, two_dir = str(tmp_path / 'one'), str(tmp_path / 'two')
    show_dir, out_dir = tmp_path / 'show', tmp_path / 'masks'
    check(
        run([
            sys.executable, 'tools/test.py', LAVT_TINY, random_ckpt,
            '--work-dir', one_dir, '--show-dir',
            str(show_dir), '--cfg-options', *data['options']
        ]))
    check(
        run([
            'bash', 'tools/dist_test.sh', LAVT_TINY, random_ckpt, '2',
            '--work-dir', two_dir, '--out',
            str(out_dir), '--cfg-options', 'env_cfg.dist_cfg.backend=gloo',
            *data['options']
        ],
            PORT=str(free_port())))
    one, two = read_test_metrics(one_dir), read_test_metrics(two_dir)
    keys = [k for k in one if k not in ('data_time', 'time')]
    assert {'oIoU', 'mIoU', 'Prec@0.5', 'Prec@0.9'} <= set(keys)
    assert 0 < one['oIoU'] < 100  # random weights: some overlap
    for key in keys:
        assert one[key] == two[key], key
    # every sample written exactly once, named by image and sent id
    with open(osp.join(data['root'], 'eval5.txt')) as f:
        ids = [line.split()[0] for line in f if line.strip()]
    expected = sorted(f'{ref}_{i}.png' for i, ref in enumerate(ids))
    assert sorted(os.listdir(out_dir)) == expected
    assert sorted(os.listdir(show_dir)) == expected
    drawing = cv2.imread(str(show_dir / expected[0]))
    assert drawing.shape[1] == 2 * 64  # ground truth | prediction


def test_test_tool_precision(tmp_path, data, random_ckpt):
    """--precision bf16 runs the model under autocast and scores what
    float32 scores, nearly; fp16 needs a GPU."""
    metrics = {}
    for precision in ('fp32', 'bf16'):
        work_dir = str(tmp_path / precision)
        check(run([sys.executable, 'tools/test.py', LAVT_TINY, random_ckpt,
                   '--work-dir', work_dir, '--precision', precision,
                   '--cfg-options', *data['options']]))
        metrics[precision] = read_test_metrics(work_dir)
    assert 0 < metrics['bf16']['oIoU'] < 100
    assert abs(metrics['bf16']['oIoU'] - metrics['fp32']['oIoU']) < 2
    if not torch.cuda.is_available():
        proc = run([sys.executable, 'tools/test.py', LAVT_TINY, random_ckpt,
                    '--work-dir', str(tmp_path / 'fp16'), '--precision',
                    'fp16', '--cfg-options', *data['options']])
        assert proc.returncode != 0 and 'CUDA' in proc.stderr


def test_resume_continues_at_the_right_iteration(tmp_path, data):
    work_dir = str(tmp_path / 'resume')
    args = [
        sys.executable, 'tools/train.py', LAVT_TINY, '--work-dir', work_dir,
        '--cfg-options', *data['options']
    ]
    # a run stopped after epoch 1 (its schedule still spans 2 epochs)
    check(run(args + ['train_cfg.max_epochs=1']))
    stopped = torch.load(
        osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
    per_epoch = stopped['meta']['iter']
    assert stopped['meta']['epoch'] == 1 and per_epoch > 1
    proc = check(run(args + ['train_cfg.max_epochs=2', '--resume']))
    log = proc.stdout + proc.stderr
    assert f'resumed epoch: 1, iter: {per_epoch}' in log

    final = torch.load(osp.join(work_dir, 'epoch_2.pth'), weights_only=False)
    assert final['meta']['epoch'] == 2
    assert final['meta']['iter'] == 2 * per_epoch
    # AdamW's step counts continued from the saved state
    steps = {
        int(state['step'])
        for state in final['optimizer']['state'].values()
    }
    assert steps == {2 * per_epoch}
    # the poly schedule stepped on from where it stopped (a fresh one
    # would have counted only the resumed run's steps); it spans
    # iterations 0 .. T - 1 of the T = 2 * per_epoch
    assert stopped['param_schedulers'][0]['last_step'] == per_epoch
    assert final['param_schedulers'][0]['last_step'] == 2 * per_epoch - 1

    # the resumed run logged iterations per_epoch+1 .. 2*per_epoch, with
    # the poly schedule where it was: lr = base (1 - t / (T - 1))^0.9
    resumed = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    with open(resumed) as f:
        train = [json.loads(line) for line in f if '"lr"' in line]
    assert [r['iter'] for r in train] == list(
        range(per_epoch + 1, 2 * per_epoch + 1))
    total = 2 * per_epoch
    expected = BASE_LR * (1 - per_epoch / (total - 1))**0.9
    assert train[0]['lr'] == pytest.approx(expected, rel=1e-3)
    assert train[-1]['lr'] == pytest.approx(0.0, abs=1e-9)

    # analyze_logs plots the loss and the metric curves of the work dir
    analyze = load_module(
        osp.join(ROOT, 'tools', 'analysis_tools', 'analyze_logs.py'))
    out = str(tmp_path / 'curves.png')
    analyze.main([work_dir, '--out', out])
    image = cv2.imread(out)
    assert image is not None and image.shape[0] > 300
    run_train, run_val = analyze.load_scalars(analyze.find_scalars(work_dir))
    assert analyze.default_keys(run_train, run_val) == [
        'loss', 'oIoU', 'mIoU'
    ]
    # both runs of the work dir, joined
    xs, ys, _ = analyze.curve(run_train, run_val, 'loss')
    assert xs == list(range(1, 2 * per_epoch + 1))
    xs, ys, _ = analyze.curve(run_train, run_val, 'oIoU')
    assert xs == [1, 2] and all(0 <= y <= 100 for y in ys)


def test_test_tool_refuses_another_models_checkpoint(tmp_path, data):
    torch.manual_seed(0)
    other = str(tmp_path / 'lgce.pth')
    model = init_model(LGCE_TINY, device='cpu')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), other)
    test_tool = load_module(osp.join(ROOT, 'tools', 'test.py'))
    args = [
        LAVT_TINY, other, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', *data['options']
    ]
    with pytest.raises(SystemExit) as info:
        test_tool.main(args)
    message = str(info.value)
    assert 'does not match the model' in message
    assert 'unknown to the model' in message
    with pytest.raises(SystemExit, match='Checkpoint file not found'):
        test_tool.main([LAVT_TINY, str(tmp_path / 'none.pth')])


def test_benchmark_tiny_and_offline(tmp_path, capsys):
    bench = load_module(
        osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'))
    out = str(tmp_path / 'bench.json')
    threads = torch.get_num_threads()
    try:
        result = bench.main([
            LAVT_TINY, '--size', '64', '--batch-size', '2', '--warmup', '1',
            '--iters', '2', '--device', 'cpu', '--out', out, '--text',
            'a car', '--threads', '1'
        ])
        amp = bench.main([
            LAVT_TINY, '--size', '64', '--iters', '1', '--warmup', '0',
            '--device', 'cpu', '--amp', '--no-inference', '--threads', '1'
        ])
    finally:
        torch.set_num_threads(threads)
    with open(out) as f:
        saved = json.load(f)
    assert saved['batch_size'] == 2 and saved['size'] == 64
    assert saved['params'] > saved['trainable_params'] > 0
    assert saved['inference']['images_per_second'] > 0
    step = saved['train_step']
    assert step['step_seconds'] == pytest.approx(
        step['forward_seconds'] + step['backward_seconds'] +
        step['optimizer_seconds'])
    assert step['peak_memory_mb'] > 10
    assert result['params'] == saved['params']
    assert 'images/s' in capsys.readouterr().out

    assert amp['amp'] == 'bf16' and 'inference' not in amp
    assert amp['train_step']['optim_wrapper'] == 'AutocastOptimWrapper'

    # the Swin-B / BERT-base config builds offline
    from mmengine.config import Config

    from mmrrsis.apis import make_offline
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'lgce_swin-b.py'))
    make_offline(cfg.model)
    text_cfg = cfg.model.text_encoder
    assert text_cfg.bert_config == {} and text_cfg.vocab == 'mmrrsis-tiny'
    assert cfg.model.backbone.init_cfg is None
    from mmrrsis.registry import MODELS
    with torch.device('meta'):  # bert-base dimensions, nothing allocated
        encoder = MODELS.build(text_cfg)
    assert encoder.out_channels == 768
    assert sum(p.numel() for p in encoder.bert.parameters()) == 108_891_648


def test_train_amp_option():
    from mmengine.config import Config
    train_tool = load_module(osp.join(ROOT, 'tools', 'train.py'))
    cfg = Config.fromfile(LAVT_TINY)
    train_tool.enable_amp(cfg)
    if torch.cuda.is_available():
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    else:  # bf16 autocast on CPU
        assert cfg.optim_wrapper.type == 'AutocastOptimWrapper'
        assert cfg.optim_wrapper.dtype == 'bfloat16'
    cfg.optim_wrapper.type = 'SomeOtherWrapper'
    with pytest.raises(ValueError, match='OptimWrapper'):
        train_tool.enable_amp(cfg)
    # updates in backward: bf16 autocast in the same wrapper
    cfg = Config.fromfile(LAVT_TINY)
    cfg.optim_wrapper.type = 'StepInBackwardOptimWrapper'
    train_tool.enable_amp(cfg)
    assert cfg.optim_wrapper.type == 'StepInBackwardOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16'


def test_train_switches_same_weights(tmp_path, data):
    """One epoch with the memory switches (updates inside the backward
    pass, a fixed mmap threshold), or with the networks compiled, ends at
    the weights of a plain run."""
    final, logs = [], []
    for name, extra in [('plain', []),
                        ('lean', [
                            'optim_wrapper.type=StepInBackwardOptimWrapper',
                            'env_cfg.malloc_mmap_threshold=1048576'
                        ]),
                        ('compiled', ['compile.backend=eager'])]:
        work_dir = str(tmp_path / name)
        proc = check(
            run([
                sys.executable, 'tools/train.py', LAVT_TINY, '--work-dir',
                work_dir, '--cfg-options', *data['options'],
                'train_cfg.max_epochs=1', 'train_cfg.val_interval=2', *extra
            ]))
        logs.append(proc.stdout + proc.stderr)
        ckpt = torch.load(
            osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
        final.append(ckpt)
    plain = final[0]
    for ckpt in final[1:]:
        assert ckpt['meta']['iter'] == plain['meta']['iter'] > 1
        # same parameter names (compiled in place: no _orig_mod prefix)
        assert ckpt['state_dict'].keys() == plain['state_dict'].keys()
        for key, value in plain['state_dict'].items():
            torch.testing.assert_close(
                ckpt['state_dict'][key], value, atol=1e-5, rtol=1e-4,
                msg=key)
        # the optimizer state is saved as the plain wrapper saves it
        assert ckpt['optimizer']['state'].keys() == \
            plain['optimizer']['state'].keys()
    assert 'Compiled backbone, decode_head' in logs[2]
    assert 'Compiled' not in logs[0]
