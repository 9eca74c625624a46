"""Administration > Records: the review, a run prepared, approved by another account with its
password, run, and the register; holds placed and released from the window."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mapping_tool.services import auth, notes
from mapping_tool.store.models import Student
from mapping_tool.ui.pages.records import HoldDialog, RecordsPanel, TupleTableModel
from tests.support import PRINCIPAL, imported_school
from tests.ui.conftest import open_session


@pytest.fixture(scope="module")
def records_school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("records-ui"), students=20, seed=5)


@pytest.fixture
def school(records_school: Path, tmp_path: Path, store_key: bytes) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(records_school, folder)
    (folder / "smt.signin").unlink(missing_ok=True)
    return folder


def _prepare_students(user) -> list[str]:  # type: ignore[no-untyped-def]
    with user.store.write() as session:
        keys = list(session.execute(select(Student.student_key).order_by(Student.student_key).limit(3)).scalars())
        session.execute(update(Student).where(Student.student_key.in_(keys))
                        .values(status="LEFT", exit_date=date.today() - timedelta(days=600)))
    notes.add_note(user, keys[1], "Weekly check-ins with the wellbeing team.")
    return keys


def test_the_table_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TupleTableModel(("A", "B"))
    model.set_rows([(1, date(2026, 3, 1)), ("x", None)])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 1)) == "01/03/2026"


def test_review_prepare_approve_run_and_register(qtbot, school: Path, store_key: bytes, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.support import CUSTODIAN, PRINCIPAL_PASSWORD

    custodian = open_session(school, store_key, CUSTODIAN)
    principal = open_session(school, store_key, PRINCIPAL)
    try:
        keys = _prepare_students(custodian)
        panel = RecordsPanel(custodian)
        qtbot.addWidget(panel)
        statuses = {panel.review_model.row_at(i)[1]: panel.review_model.row_at(i)[0] for i in range(panel.review_model.rowCount())}
        assert statuses == {keys[0]: "Due", keys[1]: "Awaiting transfer", keys[2]: "Due"}
        assert "2</b> due" in panel.review_summary.text()

        monkeypatch.setattr(HoldDialog, "ask", classmethod(lambda cls, parent: (keys[2], "complaint", "Complaint to the region")))
        panel.add_hold_button.click()
        assert panel.holds_model.rowCount() == 1 and "Hold placed" in panel.status.text()
        assert panel.review_model.row_at(panel.review_model.rowCount() - 1)[0] == "Held"

        panel.prepare_button.click()
        assert panel.tabs.currentIndex() == 1 and panel.runs_model.row_at(0)[1] == "awaiting approval"

        panel.runs_view.selectRow(0)
        monkeypatch.setattr(RecordsPanel, "ask_password", classmethod(lambda cls, parent, run: "whatever-password"))
        panel.approve_button.click()  # the preparer cannot approve
        assert "prepared by you" in panel.status.text() and panel.runs_model.row_at(0)[1] == "awaiting approval"

        theirs = RecordsPanel(principal)
        qtbot.addWidget(theirs)
        theirs.runs_view.selectRow(0)
        monkeypatch.setattr(RecordsPanel, "ask_password", classmethod(lambda cls, parent, run: PRINCIPAL_PASSWORD))
        theirs.approve_button.click()
        assert theirs.runs_model.row_at(0)[1] == "approved, not yet run"

        panel.refresh()
        panel.runs_view.selectRow(0)
        monkeypatch.setattr(RecordsPanel, "confirm", classmethod(lambda cls, parent, title, text: True))
        panel.run_button.click()
        assert panel.runs_model.row_at(0)[1] == "done"
        register = [panel.register_model.row_at(i) for i in range(panel.register_model.rowCount())]
        assert [r[7] for r in register] == [1] and register[0][5] == PRINCIPAL  # no welfare records went
        assert keys[0] not in repr(register)
        remaining = {panel.review_model.row_at(i)[1] for i in range(panel.review_model.rowCount())}
        assert remaining == {keys[1], keys[2]}
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)


def test_the_student_panel_saves_an_access_request(qtbot, school: Path, store_key: bytes, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    from mapping_tool.services import students
    from mapping_tool.ui.pages.student_panel import StudentPanel
    from mapping_tool.ui.save_dialog import SaveTarget
    from tests.support import HGT

    principal = open_session(school, store_key, PRINCIPAL)
    teacher = open_session(school, store_key, HGT)
    try:
        key = students.list_students(teacher, audit=False).rows[0][0]
        panels = []
        for session in (principal, teacher):
            panel = StudentPanel(session)
            qtbot.addWidget(panel)
            panel.show()
            with qtbot.waitSignal(panel.shown, timeout=20000):
                panel.show_student(key)
            panels.append(panel)
        assert not hasattr(panels[1], "access_button")  # principal class and the custodian only
        out = tmp_path / "request.xlsx"
        monkeypatch.setattr(StudentPanel, "ask_access_path", classmethod(lambda cls, parent, key: SaveTarget(out, False)))
        panels[0].access_button.click()
        qtbot.waitUntil(lambda: "Saved to" in panels[0].status.text(), timeout=30000)
        sheets = load_workbook(out).sheetnames
        assert sheets[0] == "Record" and "Who accessed the record" in sheets
    finally:
        auth.sign_out(teacher)
        auth.sign_out(principal)


def test_the_privacy_statement_is_acknowledged_once(qtbot, school: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy
    from mapping_tool.ui.privacy import PrivacyStatementDialog
    from tests.support import WELFARE

    user = open_session(school, store_key, WELFARE)
    try:
        dialog = PrivacyStatementDialog(user)
        qtbot.addWidget(dialog)
        text = dialog.text.toPlainText()
        assert "How long it is kept" in text and "How to ask for access" in text
        dialog.accept_button.click()
        assert dialog.result() == 1 and not records_privacy.needs_acknowledgement(user)
        assert PrivacyStatementDialog.acknowledged(user)  # not asked again
    finally:
        auth.sign_out(user)


def test_classes_backup_folder_and_policy_text_from_the_window(qtbot, school: Path, store_key: bytes, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records, records_privacy
    from tests.support import CUSTODIAN

    user = open_session(school, store_key, CUSTODIAN)
    try:
        panel = RecordsPanel(user)
        qtbot.addWidget(panel)
        codes = [panel.classes_model.row_at(i)[4] for i in range(panel.classes_model.rowCount())]
        panel.classes_view.selectRow(codes.index("cases21-copy"))
        monkeypatch.setattr(RecordsPanel, "ask_text", classmethod(lambda cls, parent, title, label, value="": "abc"))
        panel.change_button.click()
        assert "not a whole number" in panel.status.text() and records.retention_value(user, "cases21-copy") == 12
        monkeypatch.setattr(RecordsPanel, "ask_text", classmethod(lambda cls, parent, title, label, value="": "18"))
        panel.change_button.click()
        assert records.retention_value(user, "cases21-copy") == 18
        assert panel.classes_model.row_at(codes.index("cases21-copy"))[1].startswith("18 months")
        panel.classes_view.selectRow(codes.index("backup-folder"))
        monkeypatch.setattr(RecordsPanel, "ask_folder", classmethod(lambda cls, parent, title="": str(tmp_path)))
        panel.change_button.click()
        assert records.retention_value(user, "backup-folder") == str(tmp_path.resolve())
        monkeypatch.setattr(RecordsPanel, "ask_long_text", classmethod(lambda cls, parent, title, label, value: "Ask the principal."))
        panel.policy_button.click()
        assert records_privacy.policy_text(user) == "Ask the principal."
    finally:
        auth.sign_out(user)
