"""Import a command-line tool or demo of the repository as a module (its
``main(argv)`` then runs in the test's process)."""
import importlib.util
import os.path as osp

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relpath: str):
    """The module of ``ROOT/relpath`` (e.g. 'tools/train.py')."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(relpath))[0], osp.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
