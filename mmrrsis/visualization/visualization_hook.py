"""Draw referring predictions during validation and testing."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import mmengine.fileio as fileio
from mmengine.utils import mkdir_or_exist
from mmengine.visualization import Visualizer
from mmseg.engine.hooks import SegVisualizationHook
from mmseg.structures import SegDataSample

from mmrrsis.datasets.sample_names import sample_name
from mmrrsis.registry import HOOKS


@HOOKS.register_module()
class RRSISVisualizationHook(SegVisualizationHook):
    """mmseg's visualization hook, for (image, expression) samples.

    Differences from :class:`~mmseg.engine.hooks.SegVisualizationHook`:

    - drawings are named by sample (image name, ref id, sent id; see
      :func:`~mmrrsis.datasets.sample_names.sample_name`), so the
      several expressions of one image do not overwrite each other;
    - in testing, with ``test_out_dir``, every sample is written there as
      ``<sample name>.png`` (``tools/test.py --show-dir`` sets it);
    - no warning when ``draw`` is False (the normal case in training).

    Args:
        draw (bool): Draw at all. Defaults to False.
        interval (int): Draw every ``interval`` validation (and, without
            ``test_out_dir``, testing) iterations. Defaults to 50.
        show (bool): Show the drawings in a window instead of storing them.
            Defaults to False.
        wait_time (float): Seconds each window is shown. Defaults to 0.
        test_out_dir (str, optional): Folder for the test drawings; a
            relative path is taken under ``<work_dir>/<timestamp>``.
            Defaults to None.
        backend_args (dict, optional): File backend arguments for reading
            the images. Defaults to None.
    """

    def __init__(self,
                 draw: bool = False,
                 interval: int = 50,
                 show: bool = False,
                 wait_time: float = 0.,
                 test_out_dir: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        self._visualizer: Visualizer = Visualizer.get_current_instance()
        self.interval = interval
        self.show = show
        if self.show:
            # showing only: nothing goes to the storage backends
            self._visualizer._vis_backends = {}
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self.backend_args = backend_args.copy() if backend_args else None
        self.draw = draw

    def _read(self, img_path: str):
        img_bytes = fileio.get(img_path, backend_args=self.backend_args)
        return mmcv.imfrombytes(img_bytes, channel_order='rgb')

    def _after_iter(self,
                    runner,
                    batch_idx: int,
                    data_batch: dict,
                    outputs: Sequence[SegDataSample],
                    mode: str = 'val') -> None:
        """Draw the outputs of a validation or test iteration.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch in the loop.
            data_batch (dict): The batch (unused).
            outputs (Sequence[SegDataSample]): Predicted samples with
                ``img_path`` and ``text`` metainfo.
            mode (str): 'val' or 'test'. Defaults to 'val'.
        """
        if not self.draw or mode == 'train':
            return
        out_dir = None
        if mode == 'test' and self.test_out_dir is not None:
            out_dir = self.test_out_dir
            if not osp.isabs(out_dir):
                out_dir = osp.join(runner.work_dir, runner.timestamp,
                                   out_dir)
            mkdir_or_exist(out_dir)
        elif not self.every_n_inner_iters(batch_idx, self.interval):
            return
        for output in outputs:
            name = sample_name(output)
            out_file = None if out_dir is None else osp.join(
                out_dir, f'{name}.png')
            self._visualizer.add_datasample(
                f'{mode}_{name}',
                self._read(output.img_path),
                data_sample=output,
                show=self.show,
                wait_time=self.wait_time,
                out_file=out_file,
                step=runner.iter)
