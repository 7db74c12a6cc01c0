"""Keep a long-running server's memory from creeping: freed memory goes back to the system."""

from __future__ import annotations

import asyncio
import ctypes
import functools
import gc
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter number for the mmap threshold (malloc.h)."""
LARGE_BUFFER_BYTES = 128 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols, libc's among them: find_library("c") would spawn
        # ldconfig (20 ms of a server start that waits for it).
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError, TypeError):  # not glibc
        return None
    return libc


def return_large_buffers() -> bool:
    """Allocate every buffer of 128 KiB or more with mmap, so freeing it returns it at once.

    glibc raises its mmap threshold each time a large mmapped buffer is freed (up to 32 MiB), after
    which whole documents, JSON bodies and parse trees of a few MiB come from the heap instead,
    where freeing them leaves holes that keep the server's resident memory growing under a stream
    of large changes (the fuzz benchmark showed +50% over 10,000 messages). A fixed threshold
    stops that adjustment. A no-op, returning False, where the C library is not glibc.
    """
    libc = _libc()
    if libc is None:
        return False
    done = bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BUFFER_BYTES))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD) was refused; memory use is unchanged")
    return done


def release_free_memory() -> bool:
    """Collect cyclic garbage, then give the free pages inside the C heap back to the system
    (glibc's ``malloc_trim``).

    Parsing a burst of large bodies leaves the heap with free holes that the allocator keeps:
    the fuzz benchmark saw 205 MB resident where 108 MB was in use, and a trim gave the rest
    back. False where the C library is not glibc.
    """
    gc.collect()  # error objects form cycles (exception, traceback, frame) that hold buffers
    libc = _libc()
    return libc is not None and bool(libc.malloc_trim(0))


TRIM_AFTER_BYTES = 8 * 1024 * 1024
TRIM_DELAY_SECONDS = 1.0


class IdleTrim:
    """Releases free memory once input has been quiet for a moment after many bytes were read,
    so the trim (a walk of the heap) never sits between a burst of requests and their answers."""

    def __init__(self, release: Callable[[], object] = release_free_memory) -> None:
        self._release = release
        self._pending = 0
        self._timer: asyncio.TimerHandle | None = None

    def read(self, size: int) -> None:
        """Count ``size`` bytes of input; (re)arm the trim once enough have come in."""
        self._pending += size
        if self._pending < TRIM_AFTER_BYTES:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(TRIM_DELAY_SECONDS, self._trim)

    def _trim(self) -> None:
        self._timer = None
        self._pending = 0
        self._release()
