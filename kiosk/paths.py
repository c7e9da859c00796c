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
