"""Print the environment (versions of torch, CUDA, mmengine, mmcv and its
flavour, mmseg, transformers, mmrrsis) for bug reports."""
import mmrrsis  # noqa: F401  (applies the compatibility fixes)
from mmrrsis.utils import collect_env


def main():
    for name, value in collect_env().items():
        print(f'{name}: {value}')


if __name__ == '__main__':
    main()
