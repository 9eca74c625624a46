"""A breach's follow-up from the command line: a new entry naming the first, which stays as it
was recorded; a follow-up that says nothing, or names no breach, changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.services import auth, records_privacy
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD


@pytest.fixture
def base(template_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(template_store, store)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    return ["--store", str(store), "--user", CUSTODIAN]


def _register(base: list[str]) -> list[records_privacy.BreachView]:
    user = auth.sign_in(Path(base[1]), CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        return records_privacy.list_breaches(user)
    finally:
        auth.sign_out(user)


def test_breach_follow_up_records_a_new_entry_naming_the_first(base: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.run([*base, "breach", "add", "--found", "01/11/2026", "--what", "USB stick lost"]) == 0
    assert cli.run([*base, "breach", "follow-up", "1", "--notified", "The families", "--notified-on", "03/11/2026",
                    "--steps", "Encrypted sticks only"]) == 0
    assert "Follow-up to breach 1 recorded as breach 2." in capsys.readouterr().out
    first, later = _register(base)
    assert first.what == "USB stick lost" and first.notified == "" and first.notified_on is None
    assert later.what == "Follow-up to breach 1 (found on 01/11/2026)" and later.notified == "The families"
    assert later.steps == "Encrypted sticks only" and later.found_on == first.found_on
    assert cli.run([*base, "breach", "list"]) == 0
    assert "Follow-up to breach 1" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["follow-up", "1"], "Say what followed: whom you notified and when, or the steps taken."),
    (["follow-up", "7", "--steps", "x"], "There is no breach 7 in the register."),
    (["follow-up", "1", "--notified", "x", "--notified-on", "31/10/2026"], "The notification date is before the breach was found."),
    (["follow-up", "1", "--notified-on", "31/02/2026"], "not a date"),
])
def test_a_refused_follow_up_says_why_and_changes_nothing(base: list[str], capsys, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    assert cli.run([*base, "breach", "add", "--found", "01/11/2026", "--what", "USB stick lost"]) == 0
    capsys.readouterr()
    assert cli.run([*base, "breach", *args]) != 0
    assert message in capsys.readouterr().err
    assert [b.id for b in _register(base)] == [1]
