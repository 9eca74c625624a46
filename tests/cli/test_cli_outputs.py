"""Issue 11, item 1 from the command line: every command that writes a file refuses the store's
own files, links and (without --force) an existing file, in one sentence, with a non-zero exit,
and every store file is byte-identical afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping_tool import cli
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD, file_hashes

# (signed in as, password, argv before the path, the option naming the file)
COMMANDS = {
    "students": (HGT, HGT_PASSWORD, ["students"], "--out"),
    "deidentified": (CUSTODIAN, CUSTODIAN_PASSWORD, ["deidentified"], "--out"),
    "audit export": (CUSTODIAN, CUSTODIAN_PASSWORD, ["audit", "export"], "--out"),
    "backup": (CUSTODIAN, CUSTODIAN_PASSWORD, ["backup"], "--out"),
    "key save-recovery": (CUSTODIAN, CUSTODIAN_PASSWORD, ["key", "save-recovery"], "--out"),
    "import --report": (CUSTODIAN, CUSTODIAN_PASSWORD, ["import", "--cases21", "/nonexistent", "--dry-run"], "--report"),
}


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _targets(store: Path, tmp_path: Path) -> dict[str, Path]:
    (store / "smt.signin").write_text('{"failures": {}, "locked_until": {}, "events": []}', "utf-8")
    link = tmp_path / "export.csv"
    link.symlink_to(store / "smt.db")
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me", "utf-8")
    return {
        "smt.db": store / "smt.db",
        "smt.keys": store / "smt.keys",
        "smt.anchor": store / "smt.anchor",
        "smt.signin": store / "smt.signin",
        "a link to smt.db": link,
        "an existing file": existing,
    }


@pytest.mark.parametrize("command", list(COMMANDS))
def test_refused_outputs_change_nothing(command: str, store_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    username, password, argv, option = COMMANDS[command]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", password)
    targets = _targets(store_dir, tmp_path)
    for what, target in targets.items():
        before = file_hashes(store_dir)
        outside = (tmp_path / "existing.csv").read_bytes()
        code, out, err = run(capsys, "--store", str(store_dir), "--user", username, *argv, option, str(target))
        assert code != 0, (what, out)
        lines = err.strip().splitlines()
        assert len(lines) == 1, (what, err)
        assert any(word in lines[0] for word in ("store folder", "link", "already exists; choose another name, or add --force")), (what, err)
        assert file_hashes(store_dir) == before, f"{command} --out {what} changed the store"
        assert (tmp_path / "existing.csv").read_bytes() == outside


def test_force_replaces_an_existing_file_but_never_a_store_file(store_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    existing = tmp_path / "students.csv"
    existing.write_text("keep me", "utf-8")
    code, out, err = run(capsys, "--store", str(store_dir), "--user", HGT, "students", "--out", str(existing), "--force")
    assert code == 0, err
    assert existing.read_text("utf-8-sig").startswith("student_key")
    before = file_hashes(store_dir)
    code, _, err = run(capsys, "--store", str(store_dir), "--user", HGT, "students", "--out", str(store_dir / "smt.keys"), "--force")
    assert code != 0 and "store folder" in err
    assert file_hashes(store_dir) == before
