"""Where the tool keeps its files (platformdirs defaults, overridable for tests and scripts)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

from mapping_tool import APP_ID, ORG_NAME

_DIRS = PlatformDirs(appname=APP_ID, appauthor=ORG_NAME, roaming=False)


def default_store_dir() -> Path:
    """The store folder: ``--store`` wins, then ``MAPPING_TOOL_STORE``, then the local data folder."""
    env = os.environ.get("MAPPING_TOOL_STORE")
    if env:
        return Path(env)
    return Path(_DIRS.user_data_dir) / "store"


def log_dir() -> Path:
    env = os.environ.get("MAPPING_TOOL_LOG_DIR")
    return Path(env) if env else Path(_DIRS.user_log_dir)


def settings_dir() -> Path:
    env = os.environ.get("MAPPING_TOOL_SETTINGS_DIR")
    return Path(env) if env else Path(_DIRS.user_config_dir)
