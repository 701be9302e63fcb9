"""A Runner that also trains distributed on CPUs (gloo backend).

mmengine 0.10's distributed path assumes GPUs twice: ``init_dist`` calls
``torch.cuda.set_device(local_rank)`` before creating the process group, and
``Runner.wrap_model`` passes ``device_ids=[local_rank]`` to DDP, which DDP
rejects for a CPU module. :class:`RRSISRunner` changes only those two steps
and only when the process has no CUDA device; with GPUs it is mmengine's
Runner unchanged (NCCL, ``device_ids``, SyncBN).

The configs in ``configs/`` select it with ``runner_type = 'RRSISRunner'``
(set in ``configs/_base_/default_runtime.py``), and CPU training across
processes is then a config value::

    bash tools/dist_train.sh CONFIG 2 \
        --cfg-options env_cfg.dist_cfg.backend=gloo
"""
import datetime
import gc
import os
from copy import deepcopy
from typing import Dict, Optional

import torch
import torch.distributed as torch_dist
from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from mmengine.runner import Runner

from mmrrsis.registry import MODEL_WRAPPERS, RUNNERS
from mmrrsis.utils.malloc import set_malloc_mmap_threshold

from .data_check import check_data_roots

CPU_BACKENDS = ('gloo', 'mpi')


def init_cpu_dist(launcher: str, backend: str = 'gloo', **kwargs) -> None:
    """Create the default process group without touching CUDA.

    Args:
        launcher (str): ``'pytorch'`` (torchrun; RANK, WORLD_SIZE,
            MASTER_ADDR and MASTER_PORT from the environment) or ``'slurm'``.
        backend (str): A backend that runs on CPU tensors. Defaults to
            ``'gloo'``.
        **kwargs: Passed to ``torch.distributed.init_process_group``;
            ``timeout`` may be given in seconds.
    """
    if backend not in CPU_BACKENDS:
        raise RuntimeError(
            f'Distributed backend "{backend}" needs CUDA, which this process '
            'does not have. Train on CPUs with the gloo backend: '
            '--cfg-options env_cfg.dist_cfg.backend=gloo')
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    if launcher == 'slurm':
        _export_slurm_env(kwargs.pop('port', None))
    elif launcher != 'pytorch':
        raise RuntimeError(
            f'Launcher "{launcher}" is not supported for CPU training; use '
            'the "pytorch" launcher (tools/dist_train.sh, torchrun).')
    torch_dist.init_process_group(backend=backend, **kwargs)


def _export_slurm_env(port: Optional[int]) -> None:
    """Translate SLURM's variables into the ones ``env://`` reads."""
    import subprocess
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1')
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ['SLURM_LOCALID']
    os.environ['RANK'] = os.environ['SLURM_PROCID']


@RUNNERS.register_module()
class RRSISRunner(Runner):
    """mmengine's Runner, plus distributed training on CPU processes.

    Differences from :class:`mmengine.runner.Runner`:

    - :meth:`from_cfg` first checks that the datasets' folders exist
      (:func:`~mmrrsis.engine.data_check.check_data_roots`), so a missing
      dataset is reported at once, not after building the model;
    - ``env_cfg.malloc_mmap_threshold`` can fix glibc's mmap threshold
      (less resident memory on CPU, docs/speed.md);
    - ``compile`` compiles the backbone, neck and decode head instead of
      the whole ``train_step`` (see :meth:`_maybe_compile`);

    and, only in a distributed run on a process without CUDA:

    - the process group is created without ``torch.cuda.set_device``
      (backend from ``env_cfg.dist_cfg.backend``; ``gloo`` on CPU);
    - the model is wrapped in DDP without ``device_ids`` and SyncBN layers
      become plain BN (SyncBN has no CPU kernel).
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'RRSISRunner':
        """Check the data roots, then build the runner as mmengine."""
        check_data_roots(cfg)
        return super().from_cfg(cfg)

    def setup_env(self, env_cfg: Dict) -> None:
        """Create a CPU process group when needed, then as mmengine.

        ``env_cfg.malloc_mmap_threshold`` (bytes, optional) fixes glibc's
        mmap threshold before anything large is allocated (see
        :func:`mmrrsis.utils.set_malloc_mmap_threshold`).
        """
        threshold = env_cfg.get('malloc_mmap_threshold')
        if threshold is not None:
            set_malloc_mmap_threshold(threshold)
        if self.distributed and not is_distributed() and \
                not torch.cuda.is_available():
            dist_cfg = dict(env_cfg.get('dist_cfg', {}))
            init_cpu_dist(self.launcher, **dist_cfg)
        super().setup_env(env_cfg)

    def _maybe_compile(self, target: str) -> None:
        """``compile`` in the config compiles the model's networks, not
        ``train_step``.

        mmengine compiles the whole ``train_step``, optimizer step included,
        which torch 2.x's dynamo fails on with mmengine's parameter groups.
        Here each sub-module named in ``compile.modules`` (default: the
        backbone, the neck and the decode head, those the model has) is
        compiled in place (:meth:`torch.nn.Module.compile`), so parameter
        names and checkpoints stay as they are. The other keys of
        ``compile`` go to :func:`torch.compile` (``backend``, ``mode``...).
        """
        compile_cfg = self.cfg.get('compile', None)
        if compile_cfg is None or compile_cfg is False:
            return
        compile_cfg = {} if compile_cfg is True else dict(compile_cfg)
        given = compile_cfg.pop('modules', None)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        names = list(given) if given is not None else [
            n for n in ('backbone', 'neck', 'decode_head')
            if getattr(model, n, None) is not None
        ]
        for name in names:
            module = getattr(model, name, None)
            if not isinstance(module, torch.nn.Module):
                raise ValueError(f'compile.modules: the model '
                                 f'({type(model).__name__}) has no module '
                                 f'"{name}"')
            module.compile(**compile_cfg)
        self.logger.info(f'Compiled {", ".join(names)} with torch.compile '
                         f'({compile_cfg}); the first iterations are slow.')

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: torch.nn.Module) -> torch.nn.Module:
        """Wrap the model for DDP; on CPU without ``device_ids``."""
        if not self.distributed or is_model_wrapper(model) or \
                get_device() != 'cpu':
            return super().wrap_model(model_wrapper_cfg, model)
        if self.cfg.get('sync_bn', None) is not None:
            self.logger.warning('sync_bn is ignored on CPU: SyncBN has no CPU '
                                'kernel, plain BN is used.')
        model = revert_sync_batchnorm(model.to('cpu'))
        if model_wrapper_cfg is None:
            wrapper_cfg = dict(
                type='MMDistributedDataParallel',
                broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters',
                                                    False))
        else:
            wrapper_cfg = deepcopy(dict(model_wrapper_cfg))
            wrapper_cfg.setdefault('type', 'MMDistributedDataParallel')
        return MODEL_WRAPPERS.build(
            wrapper_cfg, default_args=dict(module=model))


def build_runner(cfg) -> Runner:
    """Build the runner a config asks for, as mmseg's tools do.

    ``cfg.runner_type`` (``'RRSISRunner'`` in our configs) is built from
    the RUNNERS registry; without it, mmengine's ``Runner``.

    Args:
        cfg (Config): The full config.

    Returns:
        Runner: The runner, model built.

    Raises:
        DataNotFoundError: From :class:`RRSISRunner`, before the model is
            built, when a dataset folder is missing.
    """
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def destroy_dist(runner: Optional[Runner] = None) -> None:
    """End a distributed run: sync the ranks, then free the process group.

    A CPU (gloo) process could abort at interpreter exit ("terminate called
    without an active exception") after a successful run, so the launcher
    reported a failure. The cause: a gloo worker thread still finishing the
    last backward's all-reduce needs the GIL to release the Python context
    that torch's autograd attaches to work launched in backward, and during
    interpreter shutdown that thread is killed mid-destructor. Freeing the
    group here, with the interpreter alive, joins those threads first.

    Every rank must call it. A no-op when not distributed.

    Args:
        runner (Runner, optional): The finished runner. Its DDP wrapper
            holds the process group, so it is replaced by the wrapped model
            (``runner.model`` becomes the bare model); without the runner
            the group is only destroyed, and its threads live until exit.
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    torch_dist.barrier()
    # our own reference: dropping the last one from Python releases the GIL
    # while the group's destructor joins its worker threads
    group = torch_dist.distributed_c10d._get_default_group()
    torch_dist.destroy_process_group()
    if runner is not None and is_model_wrapper(runner.model):
        runner.model = runner.model.module
    gc.collect()  # DDP's reference cycles hold the group too
    del group
