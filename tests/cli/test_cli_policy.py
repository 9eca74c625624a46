"""Issue 11, item 2: the custodian's narrowing from the command line (a contract):
``mapping-tool --user U policy show | narrow ROLE ITEM | restore ROLE ITEM``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping_tool import cli
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD, imported_school


@pytest.fixture(scope="module")
def school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("policy-cli"), students=60, seed=4)


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _header(path: Path) -> list[str]:
    return path.read_text("utf-8-sig").splitlines()[0].split(",")


def test_narrow_show_and_restore(school: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    store = ["--store", str(school)]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, *store, "--user", CUSTODIAN, "policy", "narrow", "home-group-teacher", "occupation_of_parents")
    assert code == 0, err
    assert "may no longer see occupation of parents, nor the flags computed from it" in out
    code, out, _ = run(capsys, *store, "--user", CUSTODIAN, "policy", "show")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("occupation_of_parents"))
    assert line.split()[1:] == ["yes", "yes", "yes", "narrowed"]
    assert "flag_parent_not_in_paid_work: needs occupation_of_parents" in out

    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    first = tmp_path / "narrowed.csv"
    code, out, err = run(capsys, *store, "--user", HGT, "students", "--out", str(first))
    assert code == 0, err
    assert "flag_parent_not_in_paid_work" not in _header(first) and "parent_occupation_group" not in _header(first)
    assert "Flag counts and tiers count only the flags your role may see (left out: parents not in paid work)." in out

    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, *store, "--user", CUSTODIAN, "policy", "restore", "home-group-teacher", "occupation_of_parents")
    assert code == 0 and "may see occupation of parents again" in out, err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    second = tmp_path / "restored.csv"
    code, out, _ = run(capsys, *store, "--user", HGT, "students", "--out", str(second))
    assert code == 0 and "flag_parent_not_in_paid_work" in _header(second) and "count only" not in out


@pytest.mark.parametrize(
    ("user", "password", "argv", "message"),
    [
        (CUSTODIAN, CUSTODIAN_PASSWORD, ["narrow", "janitor", "student_name"], "Unknown role 'janitor'"),
        (CUSTODIAN, CUSTODIAN_PASSWORD, ["narrow", "welfare", "shoe_size"], "Unknown data item 'shoe_size'"),
        (CUSTODIAN, CUSTODIAN_PASSWORD, ["narrow", "custodian", "student_name"], "cannot be narrowed"),
        (HGT, HGT_PASSWORD, ["narrow", "welfare", "student_name"], "Only the data custodian"),
        (HGT, HGT_PASSWORD, ["show"], "Only the"),
    ],
)
def test_bad_policy_commands_change_nothing(school: Path, capsys, monkeypatch: pytest.MonkeyPatch, user: str, password: str, argv: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    _, before, _ = run(capsys, "--store", str(school), "--user", CUSTODIAN, "policy", "show")
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", password)
    code, _, err = run(capsys, "--store", str(school), "--user", user, "policy", *argv)
    assert code != 0 and message in err and len(err.strip().splitlines()) == 1, err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    _, after, _ = run(capsys, "--store", str(school), "--user", CUSTODIAN, "policy", "show")
    assert after == before
