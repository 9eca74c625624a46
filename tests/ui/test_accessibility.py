"""Every input a keyboard or screen-reader user can reach has a name: an accessible name or a
label whose buddy it is."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDateEdit,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

INPUTS = (QLineEdit, QComboBox, QSpinBox, QDateEdit)


def unnamed_inputs(root: QWidget) -> list[str]:
    buddies = {
        id(label.buddy()) for label in root.findChildren(QLabel) if label.buddy() is not None
    }
    missing = []
    inputs = [w for cls in INPUTS for w in root.findChildren(cls)]
    for w in inputs:
        if isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox)):
            continue  # the editor inside a spin box or combo box: its owner carries the name
        if w.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if not w.accessibleName().strip() and id(w) not in buddies:
            missing.append(
                f"{type(w).__name__} {w.objectName() or w.placeholderText() if isinstance(w, QLineEdit) else ''}"
            )
    assert inputs, "found no inputs at all"
    return missing


def _add(qtbot, widget: QWidget) -> QWidget:  # type: ignore[no-untyped-def]
    qtbot.addWidget(widget)
    return widget


def test_wizard_inputs_are_named(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.wizard import FirstRunWizard

    wizard = _add(qtbot, FirstRunWizard(tmp_path / "s"))
    for page_id in wizard.pageIds():
        page = wizard.page(page_id)
        if page.findChildren(QLineEdit) or page.findChildren(QDateEdit):
            assert unnamed_inputs(page) == [], page.title()


def test_sign_in_dialogs_are_named(qtbot, store_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.signin import SignInDialog

    assert unnamed_inputs(_add(qtbot, SignInDialog(store_dir))) == []


def test_session_dialogs_and_pages_are_named(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.admin import AccountDialog, AdminPage
    from mapping_tool.ui.pages.profile import ProfilePage
    from mapping_tool.ui.signin import ChangePasswordDialog, UnlockDialog

    for widget in (
        ProfilePage(custodian),
        AdminPage(custodian),
        AccountDialog(),
        ChangePasswordDialog(custodian, forced=False),
        UnlockDialog(custodian),
    ):
        assert unnamed_inputs(_add(qtbot, widget)) == [], type(widget).__name__


@pytest.mark.parametrize("cls_name", ["SignInDialog", "ChangePasswordDialog", "UnlockDialog"])
def test_password_fields_hide_what_is_typed(
    qtbot, store_dir: Path, custodian, cls_name: str
) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui import signin

    cls = getattr(signin, cls_name)
    dialog = (
        cls(store_dir)
        if cls_name == "SignInDialog"
        else (
            cls(custodian, forced=False) if cls_name == "ChangePasswordDialog" else cls(custodian)
        )
    )
    _add(qtbot, dialog)
    fields = [f for f in dialog.findChildren(QLineEdit) if "password" in f.accessibleName().lower()]
    assert fields
    assert all(f.echoMode() == QLineEdit.EchoMode.Password for f in fields)


def test_the_check_flags_an_unnamed_input(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFormLayout

    root = _add(qtbot, QWidget())
    form = QFormLayout(root)
    named = QLineEdit()
    form.addRow("Named:", named)  # QFormLayout makes the label's buddy
    bare = QLineEdit()
    bare.setObjectName("bare")
    form.addRow(bare)
    assert unnamed_inputs(root) == ["QLineEdit bare"]
