"""Issue 11, item 1: no file the tool writes for a user can land on the store's own files.

Every writer (students, de-identified summary, audit export, data-quality report, backup,
recovery key file, PDF) refuses a path inside the store folder (also through a link), refuses to
write through a symlink, and refuses an existing file unless told to replace it; the store's
files stay byte-identical."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mapping_tool.errors import KnownError
from mapping_tool.services import audit, backup, deidentified, imports, students
from tests.support import file_hashes as _all_hashes

Writer = Callable[[object, Path, bool], object]

WRITERS: dict[str, Writer] = {
    "students": lambda user, out, replace: students.export_students(user, out, fmt="csv", replace=replace),
    "deidentified": lambda user, out, replace: deidentified.export_summary(user, out, fmt="csv", replace=replace),
    "audit export": lambda user, out, replace: audit.export_entries(user, out, fmt="csv", replace=replace),
    "report": lambda user, out, replace: imports.write_report(
        out, [("warning", "X", "ST_8123.csv", 2, "SURNAME", "a warning")], store_folder=user.store.files.folder,
        replace=replace, fmt="csv",
    ),
    "backup": lambda user, out, replace: backup.backup(user, out, replace=replace),
    "recovery key": lambda user, out, replace: backup.save_recovery_slot(user, out, replace=replace),
}


def file_hashes(folder: Path) -> dict[str, str]:
    """The store's content: the WAL index (-shm) changes when the store is merely read."""
    return {k: v for k, v in _all_hashes(folder).items() if not k.endswith("-shm")}


def _store_targets(store: Path, tmp_path: Path) -> dict[str, Path]:
    (store / "smt.signin").write_text('{"failures": {}, "locked_until": {}, "events": []}', "utf-8")
    link = tmp_path / "link-to-keys.csv"
    link.symlink_to(store / "smt.keys")
    folder_link = tmp_path / "store-link"
    folder_link.symlink_to(store, target_is_directory=True)
    return {
        "smt.db": store / "smt.db",
        "smt.keys": store / "smt.keys",
        "smt.anchor": store / "smt.anchor",
        "smt.signin": store / "smt.signin",
        "a new file in the store folder": store / "export.csv",
        "a link to smt.keys": link,
        "smt.keys through a linked folder": folder_link / "smt.keys",
    }


@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_writer_touches_the_store_files(writer: str, custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write = WRITERS[writer]
    targets = _store_targets(store_dir, tmp_path)
    for what, target in targets.items():
        before = file_hashes(store_dir)
        for replace in (False, True):
            with pytest.raises(KnownError) as caught:
                write(custodian, target, replace)
            message = caught.value.message
            assert message.count(".") <= 2 and "\n" not in message, (what, message)
            assert "store folder" in message or "link" in message, (what, message)
        assert file_hashes(store_dir) == before, f"{writer} changed the store writing to {what}"
        assert not list(tmp_path.glob(".*.tmp")) and not list(store_dir.glob(".*.tmp"))


@pytest.mark.parametrize("writer", list(WRITERS))
def test_an_existing_file_is_replaced_only_when_asked(writer: str, custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write = WRITERS[writer]
    out = tmp_path / "out" / "existing.csv"
    out.parent.mkdir()
    out.write_text("keep me", "utf-8")
    before = file_hashes(store_dir)
    with pytest.raises(KnownError) as caught:
        write(custodian, out, False)
    assert caught.value.message == "existing.csv already exists; choose another name, or add --force to replace it."
    assert out.read_text("utf-8") == "keep me"
    assert file_hashes(store_dir) == before
    write(custodian, out, True)
    assert out.read_bytes() != b"keep me" and out.stat().st_size > 0
    assert sorted(p.name for p in out.parent.iterdir()) == ["existing.csv"]  # no temp file left


def test_pdf_goes_through_the_same_checks(qapp, custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("PySide6")
    from mapping_tool.ui.printing import html_to_pdf

    targets = _store_targets(store_dir, tmp_path)
    before = file_hashes(store_dir)
    for target in targets.values():
        with pytest.raises(KnownError):
            html_to_pdf("<p>x</p>", target, store_folder=store_dir, replace=True)
    assert file_hashes(store_dir) == before
    out = tmp_path / "a.pdf"
    html_to_pdf("<p>x</p>", out, store_folder=store_dir)
    assert out.read_bytes().startswith(b"%PDF")
    with pytest.raises(KnownError):
        html_to_pdf("<p>y</p>", out, store_folder=store_dir)


def test_a_link_the_tool_did_not_create_is_never_written_through(custodian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", "utf-8")
    link = tmp_path / "students.csv"
    os.symlink(victim, link)
    with pytest.raises(KnownError, match="link"):
        students.export_students(custodian, link, replace=True)
    assert victim.read_text("utf-8") == "precious" and link.is_symlink()
