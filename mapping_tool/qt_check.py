"""Can Qt open a window here? Checked before the demo makes a store, so a missing system library
is named in one sentence (with the Debian package that provides it) instead of Qt aborting with a
message that names the wrong library and leaving a throwaway store behind.

No Qt import at module level: the check runs Qt in a child process, because a Qt that cannot
load its platform plugin aborts the whole process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_SPECIAL_PACKAGES = {"libglib-2.0.so.0": "libglib2.0-0", "libgthread-2.0.so.0": "libglib2.0-0"}


def debian_package(soname: str) -> str:
    """The Debian package that usually provides a shared library: libxcb-icccm.so.4 ->
    libxcb-icccm4, libxkbcommon-x11.so.0 -> libxkbcommon-x11-0, libEGL.so.1 -> libegl1."""
    if soname in _SPECIAL_PACKAGES:
        return _SPECIAL_PACKAGES[soname]
    match = re.fullmatch(r"(lib[\w.+-]+?)\.so\.(\d+)(?:\.\d+)*", soname)
    if not match:
        return soname
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, if this PySide6 has one (Linux only)."""
    try:
        import PySide6
    except ImportError:
        return None
    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(plugin: Path | None = None) -> list[str]:
    """Shared libraries the X11 platform plugin needs and the system lacks (from ``ldd``)."""
    plugin = plugin or xcb_plugin()
    if plugin is None or not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return []
    try:
        out = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split()[0] for line in out.splitlines() if "not found" in line})


def start_problem() -> str | None:
    """None when a QApplication starts on the platform this session would use; otherwise one
    sentence saying why not, naming the packages to install where ``ldd`` can tell."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if sys.platform.startswith("linux") and platform in ("", "xcb"):
        if not platform and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return (
                "There is no display to open the window on: run this on a desktop, or start it "
                "with xvfb-run (Debian package xvfb) for a virtual screen."
            )
        missing = missing_libraries()
        if missing and not os.environ.get("WAYLAND_DISPLAY"):
            packages = sorted({debian_package(m) for m in missing})
            return (
                f"Qt cannot open a window: the system lacks {', '.join(missing)}. Install them with "
                f"'sudo apt-get install {' '.join(packages)}' and try again."
            )
    code = "from PySide6.QtWidgets import QApplication; QApplication([])"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"Qt could not be started to check the screen: {exc}."
    if done.returncode != 0:
        last = next((ln for ln in reversed(done.stderr.splitlines()) if ln.strip()), "no message")
        return f"Qt cannot open a window here ({last.strip()})."
    return None
