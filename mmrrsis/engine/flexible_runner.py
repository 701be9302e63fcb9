"""mmengine's FlexibleRunner (FSDP, DeepSpeed) with the rules of
:class:`~mmrrsis.engine.RRSISRunner`."""
import os.path as osp
from typing import Optional

from mmengine.device import get_device
from mmengine.dist import get_rank
from mmengine.runner import FlexibleRunner

from mmrrsis.compat import load_checkpoint_file
from mmrrsis.registry import RUNNERS, STRATEGIES

from .data_check import check_data_roots
from .dist_timeout import naming_dist_timeouts
from .resume_state import message_hub_from_plain
from .runner import newest_resumable, restore_position


@RUNNERS.register_module()
class RRSISFlexibleRunner(FlexibleRunner):
    """mmengine's ``FlexibleRunner``, which hands model building, wrapping
    and checkpoint I/O to a strategy (``strategy`` in the config:
    :class:`~mmrrsis.engine.RRSISFSDPStrategy`,
    :class:`~mmrrsis.engine.RRSISDeepSpeedStrategy`), with what
    :class:`~mmrrsis.engine.RRSISRunner` guarantees:

    - the datasets' folders are checked before the model is built;
    - checkpoints are read without running code (the strategies) unless
      the config says ``unsafe_load=True``, written atomically (the
      strategies), their message hub stored as plain data
      (:class:`~mmrrsis.engine.RRSISCheckpointHook`);
    - ``resume=True`` without ``load_from`` continues from the newest
      checkpoint of the work dir that loads, each skipped one logged;
    - resume is exact: the random states and the place inside the epoch
      saved by the checkpoint hook are restored;
    - a collective that times out names the rank and the collective.

    Select it with ``runner_type = 'RRSISFlexibleRunner'`` (what
    ``tools/train.py --strategy`` does).
    """

    _resume_state: Optional[dict] = None

    @classmethod
    def from_cfg(cls, cfg) -> 'RRSISFlexibleRunner':
        """Check the data roots, then build as mmengine."""
        check_data_roots(cfg)
        runner = super().from_cfg(cfg)
        runner.strategy.unsafe_load = runner.unsafe_load
        return runner

    def build_strategy(self, strategy=None, *args, **kwargs):
        """As mmengine; a strategy's name is looked up in mmrrsis'
        registry first (mmengine builds it before the default scope is
        set, so its own registry would not see ours)."""
        if isinstance(strategy, dict) and isinstance(
                strategy.get('type'), str):
            cls = STRATEGIES.get(strategy['type'])
            if cls is None:
                raise KeyError(
                    f'strategy.type="{strategy["type"]}" is not a '
                    'registered strategy (mmrrsis: RRSISFSDPStrategy, '
                    'RRSISDeepSpeedStrategy; mmengine\'s own).')
            strategy = dict(strategy, type=cls)
        return super().build_strategy(strategy, *args, **kwargs)

    @property
    def unsafe_load(self) -> bool:
        """Whether checkpoints are unpickled completely (config key
        ``unsafe_load``; default False)."""
        return bool(self.cfg.get('unsafe_load', False))

    def _timeout(self) -> Optional[float]:
        env = self.cfg.get('env_cfg') or {}
        return (env.get('dist_cfg') or {}).get('timeout')

    def train(self):
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._timeout()):
            return super().train()

    def val(self) -> dict:
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._timeout()):
            return super().val()

    def test(self) -> dict:
        """As mmengine; a collective timeout names rank and collective."""
        with naming_dist_timeouts(self._timeout()):
            return super().test()

    def save_checkpoint(self, *args, meta: Optional[dict] = None,
                        **kwargs) -> None:
        """As mmengine, but the epoch and iteration the checkpoint hook
        passes in ``meta`` are kept (mmengine 0.10's FlexibleRunner
        overwrites them, so the hook's second save after a new best
        checkpoint recorded the next epoch, and a resume skipped it)."""
        self._given_meta = {
            k: v
            for k, v in (meta or {}).items() if k in ('epoch', 'iter')
        }
        try:
            super().save_checkpoint(*args, meta=meta, **kwargs)
        finally:
            self._given_meta = {}

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """As mmengine; a loaded checkpoint's plain message hub is turned
        back into mmengine's objects and its ``resume_state`` kept; a
        checkpoint about to be saved gets the epoch and iteration its
        caller gave."""
        if fn_name == 'before_save_checkpoint':
            kwargs['checkpoint']['meta'].update(
                getattr(self, '_given_meta', {}))
        if fn_name == 'after_load_checkpoint':
            checkpoint = kwargs['checkpoint']
            if isinstance(checkpoint.get('message_hub'), dict):
                checkpoint['message_hub'] = message_hub_from_plain(
                    checkpoint['message_hub'])
            self._resume_state = checkpoint.get('resume_state')
        super().call_hook(fn_name, **kwargs)

    def load_or_resume(self) -> None:
        """As mmengine; automatic resume falls back to an older checkpoint
        when the newest does not load."""
        from mmengine._strategy import DeepSpeedStrategy
        strategy = self.strategy
        if self._has_loaded or not (self._resume and self._load_from is
                                    None) or isinstance(
                                        strategy, DeepSpeedStrategy):
            # DeepSpeed's checkpoints are folders only DeepSpeed reads: the
            # one last_checkpoint names (mmengine's rule)
            return super().load_or_resume()

        def read(path: str) -> dict:
            if osp.isdir(path):  # a sharded FSDP checkpoint
                path = osp.join(path, f'rank{get_rank()}.pth')
            return load_checkpoint_file(
                path, map_location=get_device(),
                unsafe_load=strategy.unsafe_load)

        path, _ = newest_resumable(self, read)
        if path is None:
            return None
        self.resume(path)
        self._has_loaded = True

    def resume(self, filename: str, *args, **kwargs) -> None:
        """As mmengine, then the random states and the epoch position of
        the checkpoint's ``resume_state`` are restored."""
        self._resume_state = None
        super().resume(filename, *args, **kwargs)
        state, self._resume_state = self._resume_state or {}, None
        restore_position(self, filename, state)


__all__ = ['RRSISFlexibleRunner']
