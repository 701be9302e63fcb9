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
from functools import partial
from typing import Callable, Dict, Optional, Union

import torch
import torch.distributed as torch_dist
from mmengine.dataset import worker_init_fn as mmengine_worker_init_fn
from mmengine.device import get_device
from mmengine.dist import get_rank, is_distributed, master_only
from mmengine.model import is_model_wrapper, revert_sync_batchnorm
from mmengine.runner import EpochBasedTrainLoop, Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from mmrrsis.apis.weights import (
    CheckpointMismatchError,
    check_weights,
    compare_state_dict,
    state_dict_of,
)
from mmrrsis.compat import load_checkpoint_file
from mmrrsis.models.converters import check_config_requirements
from mmrrsis.registry import MODEL_WRAPPERS, RUNNERS
from mmrrsis.utils import write_atomically
from mmrrsis.utils.malloc import set_malloc_mmap_threshold

from .data_check import check_data_roots
from .dist_timeout import naming_dist_timeouts
from .loops import RRSISEpochBasedTrainLoop
from .resume_files import ResumeError, find_resumable
from .resume_state import message_hub_from_plain, set_rng_state
from .worker_seed import epoch_worker_init_fn

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

    - **checkpoints never run code**: ``load_from``, ``--resume`` and
      every other load read with
      :func:`~mmrrsis.compat.load_checkpoint_file` (``weights_only=True``,
      zip CRCs checked); the top-level config key ``unsafe_load=True``
      (``tools/train.py --unsafe-load``) unpickles completely;
    - **loaded weights are checked as for inference**
      (:meth:`load_checkpoint`): NaN/Inf or absurd values and integer
      tensors in place of floating-point weights are refused, naming the
      tensors; missing, unexpected or wrongly shaped keys are refused too,
      unless the top-level config key ``load_from_strict=False`` asks for a
      partial load, which loads what fits and logs every key skipped;
    - **checkpoints are written atomically** (a temporary file moved into
      place with ``os.replace``, see
      :func:`~mmrrsis.utils.write_atomically`);
    - **automatic resume falls back**: ``resume=True`` without
      ``load_from`` continues from the newest checkpoint of the work dir
      that loads (``last_checkpoint``'s first), logging each one skipped
      and why; :class:`ResumeError` when checkpoints exist but none loads;
    - **resume is exact**: the random states and the position inside the
      epoch saved by :class:`~mmrrsis.engine.RRSISCheckpointHook` are
      restored (by :class:`~mmrrsis.engine.RRSISEpochBasedTrainLoop`); a
      checkpoint from inside an epoch is refused with mmengine's own
      epoch loop, which would restart the epoch;
    - with ``randomness.deterministic=True``, dataloader workers are not
      persistent and are seeded per epoch
      (:func:`~mmrrsis.engine.worker_seed.epoch_worker_init_fn`), so data
      randomness repeats after a resume too;
    - a collective that times out (a stalled or dead rank) raises
      :class:`~mmrrsis.engine.dist_timeout.DistTimeoutError` naming the
      rank and the collective (``env_cfg.dist_cfg.timeout``, seconds);

    and, only in a distributed run on a process without CUDA:

    - the process group is created without ``torch.cuda.set_device``
      (backend from ``env_cfg.dist_cfg.backend``; ``gloo`` on CPU);
    - the model is wrapped in DDP without ``device_ids`` and SyncBN layers
      become plain BN (SyncBN has no CPU kernel).
    """

    _preloaded: Optional[tuple] = None
    _resume_state: Optional[dict] = None

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
        self._dist_timeout_s = (env_cfg.get('dist_cfg') or {}).get('timeout')
        threshold = env_cfg.get('malloc_mmap_threshold')
        if threshold is not None:
            set_malloc_mmap_threshold(threshold)
        if self.distributed and not is_distributed() and \
                not torch.cuda.is_available():
            dist_cfg = dict(env_cfg.get('dist_cfg', {}))
            init_cpu_dist(self.launcher, **dist_cfg)
        super().setup_env(env_cfg)

    @property
    def unsafe_load(self) -> bool:
        """Whether checkpoints are unpickled completely (config key
        ``unsafe_load``; default False)."""
        return bool(self.cfg.get('unsafe_load', False))

    def _dist_timeout(self) -> Optional[float]:
        return getattr(self, '_dist_timeout_s', None)

    def train(self):
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._dist_timeout()):
            return super().train()

    def val(self) -> dict:
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._dist_timeout()):
            return super().val()

    def test(self) -> dict:
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._dist_timeout()):
            return super().test()

    def build_dataloader(self, dataloader, seed: Optional[int] = None,
                         diff_rank_seed: bool = False):
        """As mmengine; deterministic runs get per-epoch worker seeds.

        With ``randomness.deterministic=True`` and workers, a config's
        ``persistent_workers=True`` is turned off (said in the log):
        persistent workers carry their random state from epoch to epoch,
        which a resumed run cannot restore; and each epoch's workers are
        seeded with :func:`~mmrrsis.engine.worker_seed.epoch_worker_init_fn`
        unless the config names a ``worker_init_fn``.
        """
        deterministic = getattr(self, '_deterministic', False)
        if deterministic and isinstance(dataloader, dict) and \
                dataloader.get('num_workers', 0) > 0 and \
                dataloader.get('persistent_workers', False):
            dataloader = dict(dataloader, persistent_workers=False)
            self.logger.info(
                'randomness.deterministic=True: persistent_workers turned '
                'off, so that every epoch\'s data workers start from seeds '
                'a resumed run can repeat.')
        custom_init = isinstance(dataloader,
                                 dict) and 'worker_init_fn' in dataloader
        loader = Runner.build_dataloader(dataloader, seed, diff_rank_seed)
        init_fn = getattr(loader, 'worker_init_fn', None)
        if deterministic and not custom_init and isinstance(
                init_fn, partial) and init_fn.func is mmengine_worker_init_fn:
            loader.worker_init_fn = partial(
                epoch_worker_init_fn,
                num_workers=init_fn.keywords['num_workers'],
                rank=init_fn.keywords['rank'],
                seed=init_fn.keywords['seed'],
                sampler=loader.sampler)
        return loader

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: Optional[list] = None):
        """Load weights (``load_from``, resume) without running code.

        As mmengine's, but read with
        :func:`~mmrrsis.compat.load_checkpoint_file` (``weights_only=True``
        unless ``unsafe_load``), converted reference weights checked
        against the config (:func:`~mmrrsis.models.converters.\
check_config_requirements`), the weights checked
        (:meth:`check_loaded_weights`), and a message hub stored as plain
        data (:class:`~mmrrsis.engine.RRSISCheckpointHook`) turned back into
        ``HistoryBuffer`` objects.

        Raises:
            ConfigRequirementError: The config does not match the
                converted reference's saved arguments.
            CorruptCheckpointError: NaN/Inf or absurd values.
            CheckpointMismatchError: Integer tensors for floating-point
                weights; missing, unexpected or wrongly shaped keys unless
                ``load_from_strict=False``.
        """
        if revise_keys is None:
            revise_keys = [(r'^module.', '')]
        if self._preloaded is not None and self._preloaded[0] == filename:
            checkpoint = self._preloaded[1]
        else:
            checkpoint = load_checkpoint_file(
                filename, map_location=map_location,
                unsafe_load=self.unsafe_load)
        self._preloaded = None
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        if isinstance(checkpoint, dict):
            # converted reference weights: the config they need first
            check_config_requirements(checkpoint.get('meta'), self.cfg,
                                      filename)
            checkpoint['state_dict'] = self.check_loaded_weights(
                model, checkpoint, filename,
                strict or self.cfg.get('load_from_strict', True))
        if isinstance(checkpoint, dict) and isinstance(
                checkpoint.get('message_hub'), dict):
            checkpoint['message_hub'] = message_hub_from_plain(
                checkpoint['message_hub'])
        self._resume_state = checkpoint.get('resume_state') if isinstance(
            checkpoint, dict) else None
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def check_loaded_weights(self, model: torch.nn.Module, checkpoint: dict,
                             filename: str, strict: bool = True) -> dict:
        """The checks of inference (:mod:`mmrrsis.apis.weights`) on a
        checkpoint loaded for training.

        Args:
            model (nn.Module): The model (unwrapped).
            checkpoint (dict): The loaded checkpoint.
            filename (str): Its file, for messages.
            strict (bool): Refuse missing, unexpected and wrongly shaped
                keys; else skip them, logging every key. Defaults to True.

        Returns:
            dict: The weights to load (without those skipped).

        Raises:
            CorruptCheckpointError: NaN/Inf or absurd values (named).
            CheckpointMismatchError: Integer tensors for floating-point
                weights (always); other mismatches when ``strict``.
        """
        state_dict = state_dict_of(checkpoint)
        check_weights(state_dict, filename)
        own = model.state_dict()
        found = compare_state_dict(own, state_dict)
        if found.dtypes or (strict and (found.missing or found.unexpected
                                        or found.shapes)):
            hint = ('\nTo load only the weights that fit (e.g. to start '
                    'from another model), set load_from_strict=False in the '
                    'config (--cfg-options load_from_strict=False); every '
                    'key skipped is then logged.' if not found.dtypes else
                    '')
            raise CheckpointMismatchError(
                found.summary(filename, model, len(state_dict), len(own)) +
                hint)
        skipped = ([f'{k} (missing from the checkpoint)'
                    for k in found.missing] +
                   [f'{k} (unknown to the model)' for k in found.unexpected] +
                   [f'{found.lines[k]} (shape: checkpoint vs model)'
                    for k in found.shapes])
        if skipped:
            self.logger.warning(
                f'load_from_strict=False: {len(skipped)} keys of {filename} '
                'skipped; these weights keep their initial values:\n  ' +
                '\n  '.join(skipped))
        return {k: v for k, v in state_dict.items() if k not in found.shapes}

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """As mmengine, but written to a temporary file first and moved
        into place with ``os.replace`` (local folders)."""
        remote = '://' in str(out_dir) or kwargs.get(
            'backend_args') or kwargs.get('file_client_args') or (
                args and args[0])
        if remote:
            return super().save_checkpoint(out_dir, filename, *args,
                                           **kwargs)
        write_atomically(
            out_dir, filename, lambda tmp: super(RRSISRunner, self).
            save_checkpoint(out_dir, tmp, *args, **kwargs))

    def load_or_resume(self) -> None:
        """As mmengine; automatic resume falls back to an older checkpoint
        when the newest does not load."""
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        map_location = get_device()
        path, checkpoint = newest_resumable(
            self, lambda p: load_checkpoint_file(
                p, map_location=map_location, unsafe_load=self.unsafe_load))
        if path is None:
            return None
        self._preloaded = (path, checkpoint)
        self.resume(path)
        self._has_loaded = True

    def resume(self, filename: str, *args, **kwargs) -> None:
        """As mmengine, then the random states and the epoch position of
        the checkpoint's ``resume_state`` are restored."""
        self._resume_state = None
        super().resume(filename, *args, **kwargs)
        state, self._resume_state = self._resume_state or {}, None
        restore_position(self, filename, state)

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


def newest_resumable(runner, read) -> tuple:
    """The newest checkpoint of ``runner.work_dir`` that ``read`` loads
    (:func:`find_resumable`), each one skipped logged with the reason.

    Returns:
        tuple: (path, checkpoint), (None, None) when the work dir holds
        none (training starts from the beginning, said).

    Raises:
        ResumeError: Checkpoints exist but none loads.
    """
    path, checkpoint, skipped = find_resumable(runner.work_dir, read)
    for line in skipped:
        runner.logger.warning(f'Resume: skipped {line}')
    if path is None:
        if skipped:
            raise ResumeError(
                f'No checkpoint in {runner.work_dir} can be resumed:\n- ' +
                '\n- '.join(skipped) +
                '\nStart a new run (another --work-dir), or resume a given '
                'file with --resume FILE.')
        runner.logger.info(f'No checkpoint in {runner.work_dir} to resume '
                           'from: training starts from the beginning.')
        return None, None
    runner.logger.info(f'Auto resumed from the latest checkpoint {path}.')
    return path, checkpoint


def _rank_rng_state(runner, state: dict) -> Optional[dict]:
    """This rank's saved random states (rank 0's, with a warning, when the
    number of processes changed)."""
    states = state.get('rng') or []
    if not states:
        return None
    rank = get_rank()
    if len(states) != runner.world_size:
        runner.logger.warning(
            f'The checkpoint holds random states of {len(states)} '
            f'processes, this run has {runner.world_size}: each starts '
            'from those of rank 0, so the run will differ from an '
            'uninterrupted one.')
        rank = 0
    return states[rank]


def restore_position(runner, filename: str, state: dict) -> None:
    """After a runner resumed the weights, optimizer and counters of
    ``filename``: put its loop at the saved place inside the epoch and
    restore the saved random states (``state``: the checkpoint's
    ``resume_state``, written by :class:`RRSISCheckpointHook`).

    Shared by :class:`RRSISRunner` and
    :class:`~mmrrsis.engine.RRSISFlexibleRunner`.

    Raises:
        ResumeError: The checkpoint was saved inside an epoch of another
            length, or inside an epoch with a loop that would restart it.
    """
    loop = runner.train_loop
    batches_done = 0
    if isinstance(loop, EpochBasedTrainLoop):
        per_epoch = len(loop.dataloader)
        batches_done = runner.iter - runner.epoch * per_epoch
        saved_length = state.get('epoch_length', per_epoch)
        if batches_done and saved_length != per_epoch:
            raise ResumeError(
                f'{filename} was saved after batch {runner.iter} of a run '
                f'with {saved_length} batches per epoch; this run has '
                f'{per_epoch} (another batch size, number of processes '
                'or dataset), so the place inside the epoch is unknown. '
                'Resume from a checkpoint saved at the end of an epoch.')
        if batches_done and not isinstance(loop, RRSISEpochBasedTrainLoop):
            raise ResumeError(
                f'{filename} was saved inside epoch {runner.epoch + 1} '
                f'(after {batches_done} of its {per_epoch} batches), and '
                f'{type(loop).__name__} would train that epoch again '
                'from its start. Use train_cfg.type='
                "'RRSISEpochBasedTrainLoop' (configs/_base_/schedules), "
                'or resume from a checkpoint saved at the end of an '
                'epoch.')
    rng = _rank_rng_state(runner, state)
    if rng is None:
        runner.logger.warning(
            f'{filename} holds no random states (not written by '
            'RRSISCheckpointHook): the resumed run will not repeat an '
            'uninterrupted one exactly.')
    if isinstance(loop, RRSISEpochBasedTrainLoop):
        loop.resume_inside_epoch(batches_done, rng)
    elif rng is not None:
        for problem in set_rng_state(rng):
            runner.logger.warning(f'Resume: {problem}.')


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
