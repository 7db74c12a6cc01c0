"""Stat stamps: whether a file is unchanged since it was read, as git's index tells.

A file whose (mtime, ctime, size, inode, device) did not change since it was read need not be
read again. A stamp is trusted only once the file is older than ``SETTLED_NS`` at the time it
was read: a write in the same timestamp tick as the read would keep the stamp.
"""

from __future__ import annotations

import os
import stat

Stamp = tuple[int, int, int, int, int]
SETTLED_NS = 2_000_000_000


def file_stamp(path: str) -> Stamp | None:
    """The stat stamp of a regular file (None for a symlink, whose target may change under an
    unchanged link, or when it cannot be read)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def settled(stamp: Stamp, read_at_ns: int) -> bool:
    """Whether a stamp taken before a read at ``read_at_ns`` can vouch for what was read."""
    return settled_time(max(stamp[0], stamp[1]), read_at_ns)


def settled_time(changed_ns: int, read_at_ns: int) -> bool:
    """Whether something last changed at ``changed_ns`` was settled when read at ``read_at_ns``."""
    return changed_ns < read_at_ns - SETTLED_NS
