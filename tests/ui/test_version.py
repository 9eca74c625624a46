"""One version number, from the package, everywhere: About, --version, the build files, the MSI,
and the changelog's newest entry."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from mapping_tool import __version__, cli
from mapping_tool.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def test_the_version_is_three_numbers_windows_installer_accepts() -> None:
    major, minor, patch = (int(n) for n in __version__.split("."))
    assert major <= 255 and minor <= 255 and patch <= 65535


def test_the_package_metadata_takes_the_version_from_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "mapping_tool.__version__"}


def test_the_build_files_read_the_version_from_the_package() -> None:
    spec = (ROOT / "installer" / "mapping_tool.spec").read_text(encoding="utf-8")
    assert '"mapping_tool" / "__init__.py"' in spec
    build = (ROOT / "installer" / "build-msi.sh").read_text(encoding="utf-8")
    assert "mapping_tool/__init__.py" in build and '-D Version="$VERSION"' in build
    wxs = (ROOT / "installer" / "StudentMappingTool.wxs").read_text(encoding="utf-8")
    assert 'Version="$(var.Version)"' in wxs
    assert not re.search(r'(?<![A-Za-z])Version="\d', wxs)  # no version number written into the WiX source


def test_the_changelog_describes_this_version_first() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d+\.\d+\.\d+)", changelog, flags=re.M)
    assert headings[0] == __version__


def test_version_on_the_command_line(capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        cli.run(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"mapping-tool {__version__}"


def test_about_shows_the_version(qtbot, custodian, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda _parent, _title, text: shown.append(text)))
    window = MainWindow(custodian)
    qtbot.addWidget(window)
    window._about()
    assert len(shown) == 1 and f"</b> {__version__}<p>" in shown[0]
