"""How a file on a medium is opened, by every reader of a disc (the scan, the copy).

Read only, no symbolic link followed, never blocking, a regular file only: a
file swapped after the scan for a link to another patient's file, or for a
FIFO that would block a plain open for ever, is refused. Kept apart from the
readers so that the copy's module loads without pydicom (the send path's
start-up).
"""

from __future__ import annotations

import errno
import os
import stat

DISC_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
"""How a file on a medium is opened: read only, no symbolic link followed, never blocking
(a FIFO put where a file was would block a plain open for ever)."""


def open_disc_file(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open a file on a medium as every reader of a disc does; its descriptor and status.

    Raises
    ------
    OSError
        If it cannot be opened, is a symbolic link, or is anything but a regular file
        (a file swapped after the scan for a link to another patient's file, or a FIFO).
    """
    fd = os.open(path, DISC_OPEN_FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, info
