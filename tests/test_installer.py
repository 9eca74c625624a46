"""The installer's sources: the WiX file list made from a one-folder build, the fixed UpgradeCode,
and the per-machine settings. (The MSI itself is built and checked by scripts/build-frozen.sh.)"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WIX = "{http://schemas.microsoft.com/wix/2006/wi}"


def _make_wxs():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_wxs", ROOT / "installer" / "make_wxs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dist(tmp_path: Path, exe: str = ".exe") -> Path:
    dist = tmp_path / "StudentMappingTool"
    (dist / "_internal" / "PySide6").mkdir(parents=True)
    for rel in (f"mapping-tool{exe}", f"mapping-tool-gui{exe}", "_internal/python312.dll", "_internal/PySide6/Qt6Core.dll"):
        (dist / rel).write_bytes(b"x")
    return dist


def test_every_file_of_the_build_is_one_component_with_a_stable_guid(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    make_wxs = _make_wxs()
    text = make_wxs.build(_dist(tmp_path))
    root = ET.fromstring(text)
    files = root.findall(f".//{WIX}File")
    components = root.findall(f".//{WIX}DirectoryRef/.//{WIX}Component")
    refs = root.findall(f".//{WIX}ComponentGroup/{WIX}ComponentRef")
    assert len(files) == len(components) == len(refs) == 4
    assert {f.get("Id") for f in files} >= {"MappingToolExe", "MappingToolGuiExe"}
    assert all(not Path(f.get("Source", "/")).is_absolute() for f in files)  # wixl wants relative paths
    assert all(c.get("Win64") == "yes" for c in components)
    # the same path gets the same component GUID in the next version's build
    other = tmp_path / "next"
    other.mkdir()
    again = ET.fromstring(make_wxs.build(_dist(other)))
    guids = {c.find(f"{WIX}File").get("Name"): c.get("Guid") for c in components}  # type: ignore[union-attr]
    guids_again = {c.find(f"{WIX}File").get("Name"): c.get("Guid") for c in again.findall(f".//{WIX}DirectoryRef/.//{WIX}Component")}  # type: ignore[union-attr]
    assert guids == guids_again and len(set(guids.values())) == 4


def test_a_build_without_the_programs_is_refused(tmp_path: Path) -> None:
    dist = _dist(tmp_path)
    (dist / "mapping-tool-gui.exe").unlink()
    with pytest.raises(SystemExit, match="lacks the programs"):
        _make_wxs().build(dist)


def test_the_package_keeps_the_fixed_upgrade_code_and_installs_per_machine() -> None:
    readme = (ROOT / "installer" / "README.md").read_text(encoding="utf-8")
    code = re.search(r"\{([0-9A-F-]{36})\}", readme).group(1)  # type: ignore[union-attr]
    product = ET.parse(ROOT / "installer" / "StudentMappingTool.wxs").getroot().find(f"{WIX}Product")
    assert product is not None and product.get("UpgradeCode") == code and product.get("Id") == "*"
    package = product.find(f"{WIX}Package")
    assert package is not None and package.get("InstallScope") == "perMachine"
    assert product.find(f"{WIX}MajorUpgrade").get("DowngradeErrorMessage")  # type: ignore[union-attr]
    store = product.find(f".//{WIX}Directory[@Id='STOREFOLDER']")
    assert store is not None
    # nothing removes files from the store folder on uninstall
    assert not [e for e in product.iter(f"{WIX}RemoveFile")]
    assert all(e.get("Id") == "RemoveAppMenuFolder" for e in product.iter(f"{WIX}RemoveFolder"))
