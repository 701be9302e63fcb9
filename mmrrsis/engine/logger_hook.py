"""mmengine's LoggerHook with the test metrics file written by one rank."""
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import LoggerHook

from mmrrsis.registry import HOOKS


@HOOKS.register_module()
class RRSISLoggerHook(LoggerHook):
    """:class:`~mmengine.hooks.LoggerHook`, safe for distributed testing.

    mmengine 0.10 writes the test metrics (``<log_dir>/<timestamp>.json``)
    from every rank. The ranks share the log folder, so with two or more
    processes they write one file at once, and it can end with a stray tail
    of the longer writer (``...}}``: not JSON). Here only the main process
    writes it, as it writes every other log file; the metrics are the same
    on all ranks (the evaluator gathers them). Everything else is
    mmengine's hook, with the same arguments.

    ``configs/_base_/default_runtime.py`` selects it as the ``logger``
    default hook.
    """

    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Log the test metrics on every rank; write the file on rank 0."""
        if is_main_process():
            super().after_test_epoch(runner, metrics)
            return
        _, log_str = runner.log_processor.get_log_after_epoch(
            runner, len(runner.test_dataloader), 'test', with_non_scalar=True)
        runner.logger.info(log_str)
