"""An implausible refresh needs confirmation; a key that now names another child is a new
student, the earlier child kept and marked, never merged (issue 11, item 12)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers.demo import generate_demo_extract
from mapping_tool import cli
from mapping_tool.services import imports, notes
from mapping_tool.store.models import ReplacedStudent, Snapshot, Student
from tests.services.test_imports import edit_table, mirror_state
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD

EXTRACT_DATE = date(2026, 9, 18)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("refresh") / "eduhub"
    generate_demo_extract(folder, students=40, extract_date=EXTRACT_DATE, years=1, seed=23)
    return folder


def _copy(demo: Path, target: Path) -> Path:
    shutil.copytree(demo, target)
    return target


def _edit_students(folder: Path, change: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
    for name in ("ST_8123.csv", "ST_8123_D.csv"):
        if (folder / name).exists():
            edit_table(folder, name, change)


def _drop_students(folder: Path, gone: set[str]) -> None:
    """The students leave the extract with their attendance and results (a real refresh)."""
    for path in sorted(folder.glob("*.csv")):
        table = path.name.split("_")[0]
        if table in ("ST", "SXAB", "SXABCONV", "STVDI", "STVDO"):
            column = "SKEY" if table.startswith("STVD") else "STKEY"
            edit_table(folder, path.name, lambda rows, c=column: [r for r in rows if r[c] not in gone])


def _keys(folder: Path) -> list[str]:
    found: list[str] = []
    edit_table(folder, "ST_8123.csv", lambda rows: found.extend(r["STKEY"] for r in rows) or rows)
    return found


def _snapshots(user) -> int:  # type: ignore[no-untyped-def]
    with user.store.read() as session:
        return int(session.execute(select(func.count()).select_from(Snapshot)).scalar_one())


def test_more_than_ten_percent_vanishing_needs_confirmation(custodian, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = imports.import_cases21(custodian, _copy(demo, tmp_path / "first"))
    later = _copy(demo, tmp_path / "later")
    keys = _keys(later)
    gone = set(keys[: int(len(keys) * 0.6)])
    current = first.students_in_extract
    _drop_students(later, gone)
    before = mirror_state(custodian)

    with pytest.raises(imports.ImportNeedsConfirmation) as info:
        imports.import_cases21(custodian, later)

    (notice,) = info.value.notices
    share = round(100 * len(gone) / current)
    assert notice == (
        f"{len(gone)} of the {current} current students ({share}%) are not in this extract; more than 10% "
        "vanishing at once usually means a partial or wrong extract."
    )
    assert info.value.message.startswith("This refresh looks implausible and was not imported:")
    assert mirror_state(custodian) == before and _snapshots(custodian) == 1

    result = imports.import_cases21(custodian, later, accept_warnings=True)
    assert result.gone == len(gone) and result.notices == (notice,)
    assert _snapshots(custodian) == 2


def test_a_few_students_leaving_needs_no_confirmation(custodian, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, _copy(demo, tmp_path / "first"))
    later = _copy(demo, tmp_path / "later")
    keys = _keys(later)
    gone = set(keys[:3])  # under 10 %
    _drop_students(later, gone)

    result = imports.import_cases21(custodian, later)
    assert result.gone == 3 and result.notices == ()


def _another_child(key: str) -> Callable[[list[dict[str, str]]], list[dict[str, str]]]:
    def change(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            if r["STKEY"] == key:
                r["FIRST_NAME"] = "Quinlan"
                r["PREF_NAME"] = "Quinlan"
                r["BIRTHDATE"] = "3/03/2011 12:00:00 AM"
        return rows

    return change


def test_a_key_that_now_names_another_child_is_a_new_student(custodian, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, _copy(demo, tmp_path / "first"))
    later = _copy(demo, tmp_path / "later")
    key = _keys(later)[4]
    notes.add_note(custodian, key, "Met with the family about attendance.")
    _edit_students(later, _another_child(key))
    before = mirror_state(custodian)

    with pytest.raises(imports.ImportNeedsConfirmation) as info:
        imports.import_cases21(custodian, later)
    # the custodian is shown which key (the notices); the message itself names no student
    assert any(f"1 student key ({key}) now belongs to a different child" in n for n in info.value.notices)
    assert "1 student key now belongs to a different child" in info.value.message and key not in info.value.message
    assert mirror_state(custodian) == before

    result = imports.import_cases21(custodian, later, accept_warnings=True)

    retired = f"{key}~1"
    assert result.replaced == ((key, retired),)
    with custodian.store.read() as session:
        new = session.get(Student, key)
        old = session.get(Student, retired)
        mark = session.get(ReplacedStudent, retired)
        assert new is not None and old is not None and mark is not None
        assert (new.first_name, new.birth_date, new.in_extract) == ("Quinlan", date(2011, 3, 3), True)
        assert old.first_name != "Quinlan" and old.in_extract is False
        assert (mark.student_key, mark.snapshot_id) == (key, result.snapshot_id)
    # the earlier child's note went with them: nothing merged into the new child's record
    assert notes.list_notes(custodian, key) == []
    assert [n.text for n in notes.list_notes(custodian, retired)] == ["Met with the family about attendance."]


def test_a_corrected_birth_date_alone_is_the_same_student(custodian, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, _copy(demo, tmp_path / "first"))
    later = _copy(demo, tmp_path / "later")
    key = _keys(later)[4]

    def fix_birth(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            if r["STKEY"] == key:
                r["BIRTHDATE"] = "3/03/2011 12:00:00 AM"
        return rows

    _edit_students(later, fix_birth)
    result = imports.import_cases21(custodian, later)
    assert result.replaced == () and result.notices == ()


def test_cli_import_needs_accept_warnings(store_dir: Path, demo: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    base = ["--store", str(store_dir), "--user", CUSTODIAN, "import", "--cases21"]
    assert cli.run([*base, str(_copy(demo, tmp_path / "first"))]) == 0
    later = _copy(demo, tmp_path / "later")
    key = _keys(later)[2]
    _edit_students(later, _another_child(key))
    capsys.readouterr()

    assert cli.run([*base, str(later)]) == 2
    err = capsys.readouterr().err
    assert f"({key}) now belongs to a different child" in err
    assert err.rstrip().endswith(
        "This refresh looks implausible and was not imported; check the extract, and if it is right run the "
        "command again with --accept-warnings."
    )

    assert cli.run([*base, str(later), "--accept-warnings"]) == 0
    out = capsys.readouterr().out
    assert f"Student key {key} now belongs to a different child; the earlier child is kept as {key}~1." in out
