"""A stalled rank ends a 2-process gloo run within the configured timeout,
and the other rank's error names itself and the collective."""
import os
import signal
import socket
import subprocess
import sys
import time

from mmrrsis.engine.dist_timeout import describe_collective, is_timeout

SCRIPT = os.path.join(os.path.dirname(__file__), 'toy_dist_train.py')
TIMEOUT = 5  # seconds, env_cfg.dist_cfg.timeout of the run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_stopped_rank_ends_the_job(tmp_path):
    start = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable, '-m', 'torch.distributed.run', '--nnodes=1',
            '--nproc_per_node=2', f'--master_port={free_port()}', SCRIPT,
            str(tmp_path), '--launcher', 'pytorch', '--timeout',
            str(TIMEOUT), '--stop-rank', '1'
        ],
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)
    try:
        out, _ = proc.communicate(timeout=240)
    finally:
        stopped = tmp_path / 'stopped1'
        if stopped.exists():  # never leave a stopped process behind
            try:
                os.kill(int(stopped.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
    elapsed = time.monotonic() - start
    assert stopped.exists(), out[-3000:]  # rank 1 really stalled
    assert proc.returncode != 0
    # start-up, 5 s of waiting, torchrun's 30 s grace before it kills the
    # stopped rank: far from torch's default of 30 minutes
    assert elapsed < 150, elapsed
    assert (f'Rank 0 of 2 waited more than {TIMEOUT} s in DDP\'s gradient '
            'all-reduce (backward pass)') in out, out[-3000:]
    assert 'env_cfg.dist_cfg.timeout' in out


def _raise_in_barrier():
    def barrier():  # a stand-in frame named like torch's
        raise RuntimeError('[gloo] Timed out waiting 5000ms for recv')

    barrier.__code__ = barrier.__code__.replace(
        co_filename='/x/torch/distributed/distributed_c10d.py')
    barrier()


def test_collective_named_from_the_traceback():
    try:
        _raise_in_barrier()
    except RuntimeError as e:
        assert is_timeout(e)
        assert describe_collective(e) == 'torch.distributed.barrier'
    assert not is_timeout(ValueError('timed out'))
    assert not is_timeout(RuntimeError('shape mismatch'))


def test_configs_wait_minutes_not_half_an_hour():
    from mmengine.config import Config
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    cfg = Config.fromfile(os.path.join(root, 'configs', 'lgce_swin-b.py'))
    timeout = cfg.env_cfg.dist_cfg.timeout
    assert 60 <= timeout < 1800  # torch's default is 1800 s
