"""The first-start offer to move an earlier release's per-user store to the PC's store folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mapping_tool import paths
from mapping_tool.store.files import StoreFiles
from mapping_tool.ui.move_store import MoveStoreDialog
from tests.support import file_hashes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0" / "store"


@pytest.fixture
def folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[Path, Path]:
    monkeypatch.delenv("MAPPING_TOOL_STORE", raising=False)
    monkeypatch.setenv("MAPPING_TOOL_MACHINE_DIR", str(tmp_path / "ProgramData"))
    monkeypatch.setenv("MAPPING_TOOL_USER_DATA_DIR", str(tmp_path / "LocalAppData"))
    shutil.copytree(FIXTURE, paths.user_store_dir())
    return paths.user_store_dir(), paths.machine_store_dir()


def test_the_custodian_moves_the_store_from_the_dialog(qtbot, sync_runner, folders) -> None:  # type: ignore[no-untyped-def]
    source, target = folders
    dialog = MoveStoreDialog(source, target)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    assert "Enter the data custodian" in dialog.message.text()
    dialog.username.setText("custodian")
    dialog.password.setText("wrong password for this")
    qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "not correct" in dialog.message.text())
    assert not dialog.moved and StoreFiles(source).exists()
    dialog.password.setText("tangerine-orbit-lantern-57")
    with qtbot.waitSignal(dialog.accepted):
        qtbot.mouseClick(dialog.move_button, Qt.MouseButton.LeftButton)
    assert dialog.moved
    assert StoreFiles(target).exists() and not StoreFiles(source).exists()


def test_not_now_opens_the_old_store_where_it_is(qtbot, folders, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source, target = folders
    before = file_hashes(source)

    def fake_exec(self) -> int:  # type: ignore[no-untyped-def]
        qtbot.addWidget(self)
        self.not_now_button.click()
        return self.result()

    monkeypatch.setattr(MoveStoreDialog, "exec", fake_exec)
    assert MoveStoreDialog.ask(source, target) == source
    assert file_hashes(source) == before and not target.exists()


def test_quit_opens_nothing(qtbot, folders, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source, target = folders

    def fake_exec(self) -> int:  # type: ignore[no-untyped-def]
        qtbot.addWidget(self)
        self.quit_button.click()
        return self.result()

    monkeypatch.setattr(MoveStoreDialog, "exec", fake_exec)
    assert MoveStoreDialog.ask(source, target) is None
