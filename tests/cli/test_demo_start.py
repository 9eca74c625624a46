"""The demo command on a machine that cannot show a window: one sentence naming what to
install, exit non-zero, and no throwaway store left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from mapping_tool import cli, qt_check


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
        ("libfontconfig.so.1.12.0", "libfontconfig1"),
    ],
)
def test_missing_library_names_its_debian_package(soname: str, package: str) -> None:
    assert qt_check.debian_package(soname) == package


def test_no_display_is_one_sentence_and_leaves_no_store(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(capsys, "demo", "--students", "5")
    assert code == 2
    assert "no display" in err and "xvfb" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_xcb_libraries_are_named_with_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(qt_check, "missing_libraries", lambda plugin=None: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    problem = qt_check.start_problem()
    assert problem is not None
    assert "libxcb-icccm.so.4" in problem and "apt-get install libxcb-icccm4 libxcb-keysyms1" in problem


def test_window_that_fails_removes_the_throwaway_store(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import mapping_tool.ui.app as app_module

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(qt_check, "start_problem", lambda: None)
    started: list[Path] = []

    def failing_window(argv: list[str]) -> int:
        started.append(Path(argv[1]))
        assert started[0].exists()
        return 1

    monkeypatch.setattr(app_module, "run_app", failing_window)
    code, out, err = run(capsys, "demo", "--students", "5")
    assert code == 1
    assert started and not started[0].exists()
    assert list(tmp_path.iterdir()) == []
    assert "throwaway store was removed" in err
