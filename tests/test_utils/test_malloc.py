"""set_malloc_mmap_threshold: freed blocks above the threshold leave the
resident set (glibc), checked in fresh interpreters."""
import subprocess
import sys
import textwrap

import pytest

import mmrrsis.utils.malloc
from mmrrsis.utils import set_malloc_mmap_threshold

# Allocate and touch 64 blocks of 2 MiB after one 2 MiB block was freed
# (which lifts glibc's dynamic threshold above 2 MiB), free all but the last
# (which pins the top of the heap), and report how much resident memory the
# freed blocks still hold, in MiB.
SCRIPT = textwrap.dedent('''
    import ctypes, importlib.util, os, sys
    # the module alone: importing mmrrsis (torch, mmseg) takes seconds
    spec = importlib.util.spec_from_file_location('malloc', sys.argv[2])
    malloc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(malloc)
    set_malloc_mmap_threshold = malloc.set_malloc_mmap_threshold
    if sys.argv[1] != 'none':
        assert set_malloc_mmap_threshold(int(sys.argv[1]))
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size = 2 * 2**20
    def rss():
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
    libc.free(libc.malloc(size))
    base = rss()
    blocks = []
    for _ in range(64):
        p = libc.malloc(size)
        ctypes.memset(p, 1, size)
        blocks.append(p)
    for p in blocks[:-1]:
        libc.free(p)
    print((rss() - base) / 2**20)
''')


def _held_mib(threshold):
    out = subprocess.run([
        sys.executable, '-c', SCRIPT,
        str(threshold), mmrrsis.utils.malloc.__file__
    ],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='glibc')
def test_freed_blocks_leave_the_resident_set():
    held_default = _held_mib('none')
    held_fixed = _held_mib(2**20)
    # glibc's default keeps the freed 126 MiB in its heap
    assert held_default > 100, held_default
    # with a fixed 1 MiB threshold only the live block remains
    assert held_fixed < 10, held_fixed


@pytest.mark.parametrize('bad', [-1, 64 * 2**20, '1MiB', True])
def test_rejects_bad_values(bad):
    with pytest.raises(ValueError, match='malloc_mmap_threshold'):
        set_malloc_mmap_threshold(bad)
