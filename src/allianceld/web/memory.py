"""Giving memory back to the system after a large piece of work.

Parsing and validating a large body makes many small objects; once they are freed, glibc keeps the
pages in its arenas, so the process stays at its peak size. :func:`give_back` collects the garbage
and asks glibc to return the free pages (``malloc_trim``); elsewhere than glibc it only collects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError, TypeError):  # not glibc
        return None


def give_back() -> bool:
    """Collect garbage and return free heap pages to the system; whether glibc's trim ran."""
    gc.collect()
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def resident_bytes() -> int | None:
    """This process's resident memory (``VmRSS``), or None where /proc does not tell."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
