"""mmengine's FSDP and DeepSpeed strategies with mmrrsis' checkpoint rules
(and FSDP on CPU processes).

:class:`~mmrrsis.engine.RRSISFlexibleRunner` builds one of these from the
config's ``strategy`` (``tools/train.py --strategy fsdp|deepspeed`` writes
it; :data:`STRATEGY_PRESETS`). What they add to mmengine's:

- **checkpoints never run code**: a checkpoint is read with
  :func:`~mmrrsis.compat.load_checkpoint_file` (``weights_only=True``,
  zip CRCs checked) unless ``unsafe_load``;
- **checkpoints are written atomically**: to a temporary name, moved into
  place when complete (the folder of a sharded FSDP checkpoint too), so a
  kill leaves the previous checkpoint usable;
- **FSDP on CPUs**: without CUDA the process group is created with the
  CPU backend (``env_cfg.dist_cfg.backend=gloo``) and FSDP shards on the
  CPU (``device_id=cpu``); gradient clipping uses FSDP's own norm over all
  shards (``clip_grad`` of the optimizer wrapper), not one shard's;
- **exact FSDP resume**: the optimizer state is saved as each rank's
  shards (see :meth:`RRSISFSDPStrategy.optim_state_dict`).

DeepSpeed writes a folder of its own files (``mp_rank_00_model_states.pt``
and the ZeRO optimizer shards) that only DeepSpeed reads, with full
unpickling: :class:`RRSISDeepSpeedStrategy` resumes from such a folder only
when it lies in the run's own work dir or with ``unsafe_load=True``; a
model-only file (``load_from``, ``save_optimizer=False``) is read and
written by mmrrsis' rules.
"""
import copy
import os
import os.path as osp
import shutil
from typing import Callable, Optional

import torch
from mmengine._strategy import DeepSpeedStrategy, FSDPStrategy
from mmengine.dist import barrier, get_rank, is_distributed, is_main_process

from mmrrsis.compat import load_checkpoint_file
from mmrrsis.registry import STRATEGIES
from mmrrsis.utils.atomic_write import _fsync, write_atomically

from .runner import init_cpu_dist

#: ``--strategy`` of tools/train.py: what it puts into the config.
STRATEGY_PRESETS = dict(
    # ZeRO-2 in bf16 with gradient clipping 3.0, as RSRefSeg2 trains
    deepspeed=dict(
        strategy=dict(
            type='RRSISDeepSpeedStrategy',
            bf16=dict(enabled=True),
            gradient_clipping=3.0,
            inputs_to_half=['inputs'],
            zero_optimization=dict(
                stage=2,
                allgather_partitions=True,
                allgather_bucket_size=2e8,
                reduce_scatter=True,
                reduce_bucket_size='auto',
                overlap_comm=True,
                contiguous_gradients=True)),
        optim_wrapper_type='DeepSpeedOptimWrapper'),
    # parameters, gradients and optimizer state sharded over the processes;
    # the checkpoint holds the full state dict (rank 0 writes it), which
    # any runner, process count or inference tool reads
    fsdp=dict(
        strategy=dict(
            type='RRSISFSDPStrategy',
            model_wrapper=dict(
                type='MMFullyShardedDataParallel', use_orig_params=True),
            state_dict_cfg='full'),
        optim_wrapper_type='OptimWrapper'),
)


class StrategyUnavailableError(RuntimeError):
    """A training strategy's requirements are missing on this machine."""


def _clip_norm(cfg) -> Optional[float]:
    """The gradient clipping of a config, wherever it is written."""
    clip = (cfg.get('optim_wrapper') or {}).get('clip_grad') or {}
    if clip.get('max_norm') is not None:
        return clip['max_norm']
    return (cfg.get('strategy') or {}).get('gradient_clipping')


def apply_strategy(cfg, name: str) -> None:
    """Switch a config's training engine, in place (``tools/train.py
    --strategy``).

    - ``'ddp'``: the default runner (``RRSISRunner``, DDP when
      distributed), ``OptimWrapper`` with ``clip_grad``;
    - ``'fsdp'``: ``RRSISFlexibleRunner`` + :class:`RRSISFSDPStrategy`
      (GPUs or CPU processes), ``OptimWrapper`` with ``clip_grad``;
    - ``'deepspeed'``: ``RRSISFlexibleRunner`` +
      :class:`RRSISDeepSpeedStrategy` (ZeRO-2, bf16),
      ``DeepSpeedOptimWrapper``, the clipping in the strategy.

    The optimizer, its learning rate and the clipping norm are kept.

    Args:
        cfg (Config): The full config.
        name (str): ``'ddp'``, ``'fsdp'`` or ``'deepspeed'``.
    """
    choices = ('ddp', ) + tuple(STRATEGY_PRESETS)
    if name not in choices:
        raise ValueError(f'strategy must be one of {choices}, got "{name}"')
    clip = _clip_norm(cfg)
    wrapper = cfg.optim_wrapper
    wrapper.pop('clip_grad', None)
    if name == 'ddp':
        cfg.runner_type = 'RRSISRunner'
        cfg.pop('strategy', None)
        wrapper.type = 'OptimWrapper'
    else:
        preset = copy.deepcopy(STRATEGY_PRESETS[name])
        cfg.runner_type = 'RRSISFlexibleRunner'
        cfg.strategy = preset['strategy']
        wrapper.type = preset['optim_wrapper_type']
    if name == 'deepspeed':
        if clip is not None:
            cfg.strategy.gradient_clipping = clip
    elif clip is not None:
        wrapper.clip_grad = dict(max_norm=clip)


def _safe_read(strategy, filename: str, map_location) -> dict:
    """A checkpoint file by mmrrsis' rules."""
    return load_checkpoint_file(
        filename,
        map_location=map_location,
        unsafe_load=getattr(strategy, 'unsafe_load', False))


def _load(strategy, filename: str, map_location, strict: bool,
          revise_keys: Optional[list], callback: Optional[Callable]) -> dict:
    """Read ``filename`` safely and load its weights into the model."""
    if revise_keys is None:
        revise_keys = [(r'^module.', '')]
    strategy.logger.info(f'Load checkpoint from {filename}')
    checkpoint = _safe_read(strategy, filename, map_location)
    if callback is not None:
        callback(checkpoint)
    state_dict = checkpoint.pop('state_dict')
    strategy.load_model_state_dict(
        state_dict, strict=strict, revise_keys=revise_keys)
    return checkpoint


@STRATEGIES.register_module()
class RRSISFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` with mmrrsis' checkpoint rules, on GPUs
    or CPU processes (see the module docstring).

    ``state_dict_cfg='full'`` (the preset) writes one ordinary checkpoint
    from rank 0 (the same keys as an unsharded model: tests, inference and
    converters read it); ``'local'`` writes a folder ``NAME/rank{i}.pth``
    of shards, for the same number of processes only.

    Args:
        **kwargs: Arguments of ``FSDPStrategy``.
    """

    unsafe_load = False

    def __init__(self, **kwargs) -> None:
        if not torch.cuda.is_available():
            wrapper = dict(kwargs.get('model_wrapper') or
                           dict(type='MMFullyShardedDataParallel'))
            wrapper.setdefault('device_id', torch.device('cpu'))
            kwargs['model_wrapper'] = wrapper
        super().__init__(**kwargs)

    def _setup_distributed(self, launcher: str = 'pytorch',
                           backend: str = 'nccl', **kwargs) -> None:
        """The process group; on a process without CUDA, with the CPU
        backend and without ``torch.cuda.set_device``."""
        if is_distributed():
            return
        if torch.cuda.is_available():
            super()._setup_distributed(launcher, backend, **kwargs)
        else:
            init_cpu_dist(launcher, backend, **kwargs)

    def build_optim_wrapper(self, optim_wrapper, model=None):
        """As mmengine; ``clip_grad`` clips by the norm over every shard
        (FSDP's ``clip_grad_norm_``)."""
        wrapper = super().build_optim_wrapper(optim_wrapper, model)
        if getattr(wrapper, 'clip_grad_kwargs', None):
            fsdp = self.model

            def clip(params, **kwargs):
                return fsdp.clip_grad_norm_(**kwargs)

            wrapper.clip_func = clip
        return wrapper

    def optim_state_dict(self) -> dict:
        """Every rank's optimizer state, as it holds it (its shards).

        torch's ``FSDP.optim_state_dict`` gathers the full optimizer
        state, but on CPU processes (gloo, torch 2.14) it returns Adam's
        second moment in place of the first, so a resumed run diverged;
        the shards themselves are exact. The checkpoint keeps them as
        ``{'fsdp_shards': [rank 0's, rank 1's, ...]}``: a resume needs the
        same number of processes (said when it has another).
        """
        from mmengine.dist import all_gather_object, get_world_size
        local = self.optim_wrapper.state_dict()
        shards = all_gather_object(local) if get_world_size() > 1 else [
            local
        ]
        return dict(fsdp_shards=shards)

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """Load this rank's optimizer shard saved by
        :meth:`optim_state_dict`.

        Raises:
            ValueError: The checkpoint was written by another number of
                processes.
        """
        from mmengine.dist import get_world_size
        shards = state_dict.get('fsdp_shards')
        if shards is None:
            raise ValueError(
                'The checkpoint\'s optimizer state was not written by '
                'RRSISFSDPStrategy; resume it with the runner that wrote '
                'it, or load only its weights (load_from).')
        if len(shards) != get_world_size():
            raise ValueError(
                f'The checkpoint holds the optimizer shards of '
                f'{len(shards)} processes, this run has {get_world_size()}: '
                'resume with as many processes, or load only its weights '
                '(load_from).')
        self.optim_wrapper.load_state_dict(shards[get_rank()])

    def load_checkpoint(self,
                        filename: str,
                        *,
                        map_location='cpu',
                        strict: bool = False,
                        revise_keys: Optional[list] = None,
                        callback: Optional[Callable] = None) -> dict:
        """Read safely: the file (full state dict) or this rank's shard of
        the folder (local)."""
        if not self._is_full_state_dict():
            filename = osp.join(filename, f'rank{get_rank()}.pth')
        if map_location == 'default':
            map_location = 'cpu'
        return _load(self, filename, map_location, strict, revise_keys,
                     callback)

    def save_checkpoint(self, filename: str, **kwargs) -> None:
        """Write atomically; every rank takes part (the state dict is
        gathered from the shards)."""
        out_dir, name = osp.split(osp.abspath(filename))
        tmp = osp.join(out_dir, f'.{name}.tmp-fsdp')
        if is_main_process() and osp.isdir(tmp):
            shutil.rmtree(tmp)
        barrier()
        super().save_checkpoint(tmp, **kwargs)
        barrier()
        if is_main_process():
            if osp.isdir(tmp):
                for part in os.listdir(tmp):
                    _fsync(osp.join(tmp, part))
                if osp.isdir(filename):
                    shutil.rmtree(filename)
            else:
                _fsync(tmp)
            os.replace(tmp, filename)
            _fsync(out_dir)
        barrier()


@STRATEGIES.register_module()
class RRSISDeepSpeedStrategy(DeepSpeedStrategy):
    """mmengine's ``DeepSpeedStrategy`` with mmrrsis' checkpoint rules for
    what mmrrsis reads and writes itself (see the module docstring).

    DeepSpeed needs CUDA GPUs and ``pip install -e ".[deepspeed]"``.

    Args:
        **kwargs: Arguments of ``DeepSpeedStrategy``.
    """

    unsafe_load = False

    def __init__(self, **kwargs) -> None:
        try:
            import deepspeed  # noqa: F401
        except ImportError:
            raise StrategyUnavailableError(
                'strategy RRSISDeepSpeedStrategy needs DeepSpeed: pip '
                'install -e ".[deepspeed]" (CUDA GPUs), or train with '
                '--strategy fsdp (GPUs or CPU processes) or --strategy '
                'ddp.') from None
        if not torch.cuda.is_available():
            raise StrategyUnavailableError(
                'strategy RRSISDeepSpeedStrategy needs CUDA GPUs, which '
                'this process does not see; train with --strategy fsdp '
                '(CPU processes too) or --strategy ddp.')
        super().__init__(**kwargs)

    def load_checkpoint(self,
                        filename: str,
                        *,
                        map_location='cpu',
                        strict: bool = False,
                        revise_keys: Optional[list] = None,
                        callback: Optional[Callable] = None) -> dict:
        """A model-only checkpoint file (``load_from``), read safely."""
        if map_location == 'default':
            map_location = 'cpu'
        return _load(self, filename, map_location, strict, revise_keys,
                     callback)

    def resume(self, filename: str, **kwargs) -> dict:
        """DeepSpeed's own checkpoint folder, read by DeepSpeed (full
        unpickling): only from the run's work dir or with ``unsafe_load``.
        """
        inside = osp.abspath(filename).startswith(
            osp.abspath(self.work_dir) + os.sep)
        if not (inside or self.unsafe_load):
            from mmrrsis.compat import UnsafeCheckpointError
            raise UnsafeCheckpointError(
                f'{filename} is a DeepSpeed checkpoint, which only '
                'DeepSpeed reads, running code from the file. Resume from '
                'a checkpoint of this run\'s work dir, or pass '
                '--unsafe-load (unsafe_load=True) for a file you trust.')
        return super().resume(filename, **kwargs)

    def save_checkpoint(self, filename: str, *, save_optimizer: bool = True,
                        **kwargs) -> None:
        """As mmengine (a DeepSpeed folder with the optimizer); a
        model-only file is written atomically."""
        if save_optimizer:
            return super().save_checkpoint(
                filename, save_optimizer=True, **kwargs)
        out_dir, name = osp.split(osp.abspath(filename))
        tmp = osp.join(out_dir, f'.{name}.tmp-{os.getpid()}')
        super().save_checkpoint(tmp, save_optimizer=False, **kwargs)
        if is_main_process():
            write_atomically(out_dir, name,
                             lambda t: os.replace(tmp, osp.join(out_dir, t)))


__all__ = [
    'RRSISDeepSpeedStrategy', 'RRSISFSDPStrategy', 'STRATEGY_PRESETS',
    'StrategyUnavailableError', 'apply_strategy'
]
