"""Make freed activations leave the process's memory (glibc only).

glibc serves an allocation from its heap unless it is larger than the
*mmap threshold*, and it raises that threshold (up to 32 MiB) each time a
mapped block is freed. After the first training step most activations of
a CPU step (1-32 MiB each) therefore come from the heap, and memory freed
in the middle of a fragmented heap is not given back: the resident set
keeps the high-water mark of every step's transient tensors. A fixed
threshold (``mallopt(M_MMAP_THRESHOLD, n)``, the same as the environment
variable ``MALLOC_MMAP_THRESHOLD_=n``) maps every block of ``n`` bytes or
more on its own and unmaps it when it is freed. The cost is a page fault
per first touch of each fresh page of such a block.

With gradient checkpointing this brings the peak resident set of a Swin-B
+ BERT-base step at 480x480 close to what is really live (docs/speed.md).
"""
import ctypes
import sys
import warnings

M_MMAP_THRESHOLD = -3
# glibc's bound on 64-bit systems (HEAP_MAX_SIZE / 2)
MAX_MMAP_THRESHOLD = 32 * 2**20


def set_malloc_mmap_threshold(nbytes: int) -> bool:
    """Fix glibc's mmap threshold at ``nbytes`` for this process.

    Affects allocations made from now on; call it before building the model.

    Args:
        nbytes (int): Blocks of at least this many bytes are mapped and
            unmapped on their own, 0 to 32 MiB (e.g. ``1048576``).

    Returns:
        bool: True if set; False (with a warning) where the C library has
        no ``mallopt`` (not glibc) or refuses the value.
    """
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or \
            not 0 <= nbytes <= MAX_MMAP_THRESHOLD:
        raise ValueError('malloc_mmap_threshold must be a number of bytes '
                         f'from 0 to {MAX_MMAP_THRESHOLD} (32 MiB), got '
                         f'{nbytes!r}')
    if not sys.platform.startswith('linux'):
        warnings.warn('malloc_mmap_threshold is ignored: it needs glibc '
                      f'(Linux), this is {sys.platform}')
        return False
    mallopt = getattr(ctypes.CDLL(None), 'mallopt', None)
    if mallopt is None:
        warnings.warn('malloc_mmap_threshold is ignored: this C library '
                      'has no mallopt (not glibc)')
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    if not mallopt(M_MMAP_THRESHOLD, nbytes):
        warnings.warn(f'mallopt refused an mmap threshold of {nbytes} bytes')
        return False
    return True
