"""Where the kiosk keeps its files, per platform (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "outside-media-kiosk"
APP_AUTHOR = "kiosk"


def user_config_file() -> Path:
    """Return the default config file path (used when neither --config nor $KIOSK_CONFIG)."""
    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "kiosk.toml"


def config_file_from_env() -> Path:
    """Return ``$KIOSK_CONFIG`` if set, else the per-user config file."""
    env = os.environ.get("KIOSK_CONFIG")
    return Path(env) if env else user_config_file()


def data_dir() -> Path:
    """Return the per-user data dir (database, default spool); honours ``XDG_DATA_HOME``."""
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    """Return the per-user log dir."""
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


#: Modes of what the kiosk writes (POSIX): its files hold patient data (PHI).
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def protect_files() -> None:
    """Make what this process creates readable by its own user only (POSIX).

    Sets the umask to 0o077, so the database (and its ``-wal``/``-shm``),
    spool copies, logs and exports are created 0600 in folders created 0700,
    and tightens the kiosk's own folders an older version created 0755
    (:func:`private_folders`). Called at start by the CLI's ``main()`` and by
    the desktop app; on Windows it does nothing (see the README: NTFS
    permissions of the data folder).
    """
    if os.name != "posix":
        return
    os.umask(0o077)
    private_folders(data_dir(), log_dir())


def private_folders(*folders: Path) -> None:
    """``chmod 0700`` those of the kiosk's own ``folders`` that let other users in (POSIX).

    Only the folders given are changed, never their parents (``/var/lib``),
    and only when this user owns them and they are not shared (no sticky bit,
    as ``/tmp`` has); a folder that is missing or cannot be changed is left.
    """
    if os.name != "posix":
        return
    import stat

    for folder in folders:
        try:
            info = folder.stat()
            if (
                stat.S_ISDIR(info.st_mode)
                and info.st_uid == os.geteuid()
                and not info.st_mode & stat.S_ISVTX
                and info.st_mode & 0o077
            ):
                folder.chmod(PRIVATE_FOLDER)
        except OSError:
            continue


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it is missing; tighten it to 0600 otherwise.

    For the SQLite database: SQLite gives its ``-wal`` and ``-shm`` files the
    mode of the database file, whatever the umask. A file this user does not
    own, or cannot change, is left as it is.

    Raises
    ------
    OSError
        If the file cannot be created.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        private_files(path)


def private_files(*files: Path) -> None:
    """``chmod 0600`` those of ``files`` that exist, are this user's and let others in (POSIX)."""
    if os.name != "posix":
        return
    for path in files:
        try:
            info = path.stat()
            if info.st_uid == os.geteuid() and info.st_mode & 0o077:
                path.chmod(PRIVATE_FILE)
        except OSError:
            continue


def private_opener(path: str, flags: int) -> int:
    """An ``opener`` for :func:`open`: a file it creates gets mode 0600 whatever the umask."""
    return os.open(path, flags, PRIVATE_FILE)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new and renamed files) to the disk, where the OS allows it."""
    if os.name != "posix":
        return  # Windows has no directory handles to fsync; NTFS journals renames itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
