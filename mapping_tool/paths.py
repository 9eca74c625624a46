"""Where the tool keeps its files, and where a store may live.

One store per PC, shared by the staff who sign in to Windows on it (their key slots decide who
opens it). The store folder is, first to last:

1. ``--store DIR`` on the command line;
2. ``MAPPING_TOOL_STORE`` in the environment (scripts and tests);
3. the machine-wide settings the technician chose: the ``[store] folder`` line of the machine
   settings file ``machine.ini`` in the machine folder, then (Windows) the ``StoreFolder`` value
   under ``HKLM\\SOFTWARE\\VicSchools\\StudentMappingTool`` that the installer writes (its
   ``STOREFOLDER``);
4. the PC's shared data folder: ``%ProgramData%\\VicSchools\\StudentMappingTool\\store`` on
   Windows (the installer creates it with write access for the PC's users).

A store never lives on a network share (SQLite's locking and WAL do not work there) nor inside
the program's install folder (replaced on every upgrade).
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from platformdirs import PlatformDirs

from mapping_tool import APP_ID, ORG_NAME
from mapping_tool.errors import UsageError

_DIRS = PlatformDirs(appname=APP_ID, appauthor=ORG_NAME, roaming=False)

ENV_STORE = "MAPPING_TOOL_STORE"
# Test and technician overrides of the machine folders (never needed on a normal install).
ENV_MACHINE_DIR = "MAPPING_TOOL_MACHINE_DIR"
ENV_MACHINE_SETTINGS = "MAPPING_TOOL_MACHINE_SETTINGS"
ENV_USER_DATA_DIR = "MAPPING_TOOL_USER_DATA_DIR"
REGISTRY_KEY = rf"SOFTWARE\{ORG_NAME}\{APP_ID}"
REGISTRY_VALUE = "StoreFolder"
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "ncpfs", "9p", "ceph", "glusterfs",
    "lustre", "davfs", "fuse.sshfs", "fuse.davfs2", "fuse.glusterfs", "fuse.s3fs", "fuse.rclone",
})


def machine_dir() -> Path:
    """The PC's shared data folder for the tool (not per Windows user)."""
    env = os.environ.get(ENV_MACHINE_DIR)
    if env:
        return Path(env)
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / ORG_NAME / APP_ID
    if sys.platform == "darwin":
        return Path("/Users/Shared") / APP_ID
    return Path("/var/lib/student-mapping-tool")


def machine_store_dir() -> Path:
    return machine_dir() / "store"


def machine_settings_file() -> Path:
    env = os.environ.get(ENV_MACHINE_SETTINGS)
    return Path(env) if env else machine_dir() / "machine.ini"


def user_store_dir() -> Path:
    """Where releases up to 0.1.0 kept a store per Windows user (found and moved on first start)."""
    env = os.environ.get(ENV_USER_DATA_DIR)
    return (Path(env) if env else Path(_DIRS.user_data_dir)) / "store"


@dataclass(frozen=True)
class StoreChoice:
    folder: Path
    source: str  # "command line", "environment", "machine setting", "machine default"


def _registry_store_folder() -> str | None:
    if sys.platform != "win32":
        return None
    import winreg

    try:
        with winreg.OpenKey(
            winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY
        ) as key:
            value, _kind = winreg.QueryValueEx(key, REGISTRY_VALUE)
    except OSError:
        return None
    return str(value).strip() or None


def _settings_file_store_folder() -> str | None:
    path = machine_settings_file()
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            parser.read_file(fh)
    except FileNotFoundError:
        return None
    except (OSError, configparser.Error, UnicodeDecodeError) as exc:
        raise UsageError(
            f"The machine settings file {path} cannot be read ({type(exc).__name__}). "
            "Ask the PC's technician to fix or remove it."
        ) from None
    value = parser.get("store", "folder", fallback="").strip()
    return value or None


def store_choice(cli_store: str | None = None) -> StoreChoice:
    if cli_store:
        return StoreChoice(Path(cli_store).expanduser(), "command line")
    env = os.environ.get(ENV_STORE)
    if env:
        return StoreChoice(Path(env).expanduser(), "environment")
    machine = _settings_file_store_folder() or _registry_store_folder()
    if machine:
        return StoreChoice(Path(os.path.expandvars(machine)).expanduser(), "machine setting")
    return StoreChoice(machine_store_dir(), "machine default")


def default_store_dir() -> Path:
    """The store folder when ``--store`` is not given (see the module docstring)."""
    return store_choice().folder


def install_dir() -> Path:
    """The program's own folder: the frozen build's folder, or the package when run from source."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent


# -- where a store may not live ------------------------------------------------------------


def _is_unc(text: str) -> bool:
    """\\\\server\\share (or //server/share, or \\\\?\\UNC\\...); not the local \\\\?\\C:\\ form."""
    t = text.replace("/", "\\")
    if t.upper().startswith("\\\\?\\UNC\\"):
        return True
    return t.startswith("\\\\") and not t.startswith(("\\\\?\\", "\\\\.\\"))


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or "/")


def _unescape_mount(field: str) -> str:
    """/proc/mounts writes space, tab, newline and backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mount_filesystem(path: Path, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """The file system type of the mount holding ``path`` (Linux), or None when unknown."""
    try:
        lines = mounts_file.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    target = str(_existing_ancestor(path.absolute()).resolve())
    best, best_type = "", None
    for line in lines:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point, fs_type = _unescape_mount(parts[1]), parts[2]
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


def _windows_drive_is_remote(path: Path) -> bool:
    import ctypes

    drive = os.path.splitdrive(str(path.absolute()))[0]
    if not drive:
        return False
    drive_remote = 4
    return bool(ctypes.windll.kernel32.GetDriveTypeW(drive + "\\") == drive_remote)  # type: ignore[attr-defined]


def network_location(path: Path, *, mounts_file: Path = Path("/proc/mounts")) -> str | None:
    """Why ``path`` is on a network share (a few words), or None when it is local."""
    text = str(path)
    if _is_unc(text) or (sys.platform == "win32" and _is_unc(str(path.absolute()))):
        return "a network share"
    if sys.platform == "win32":
        return "a network drive" if _windows_drive_is_remote(path) else None
    fs_type = mount_filesystem(path, mounts_file)
    if fs_type and (fs_type in NETWORK_FILESYSTEMS or fs_type.split(".")[0] in {"nfs", "cifs", "smb3"}):
        return f"a network share ({fs_type})"
    return None


def check_store_location(folder: Path, *, mounts_file: Path = Path("/proc/mounts")) -> None:
    """Refuse a store folder on a network share or inside the program's folder (UsageError)."""
    where = network_location(folder, mounts_file=mounts_file)
    if where:
        raise UsageError(
            f"The store folder {folder} is on {where}. The store must be on this PC's own disk "
            "(the database cannot be shared safely over a network): choose a local folder."
        )
    try:
        resolved = _existing_ancestor(folder.absolute()).resolve() / folder.absolute().relative_to(
            _existing_ancestor(folder.absolute())
        )
        inside = resolved == install_dir() or install_dir() in resolved.parents
    except (OSError, ValueError):
        inside = False
    if inside:
        raise UsageError(
            f"The store folder {folder} is inside the program's folder {install_dir()}, which is "
            "replaced on every upgrade: choose a folder outside it (the usual one is "
            f"{machine_store_dir()})."
        )


def log_dir() -> Path:
    env = os.environ.get("MAPPING_TOOL_LOG_DIR")
    return Path(env) if env else Path(_DIRS.user_log_dir)


def settings_dir() -> Path:
    env = os.environ.get("MAPPING_TOOL_SETTINGS_DIR")
    return Path(env) if env else Path(_DIRS.user_config_dir)
