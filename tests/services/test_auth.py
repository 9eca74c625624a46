"""Signing in is unwrapping your key slot; wrong secrets open nothing and change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mapping_tool.errors import (
    AuthenticationError,
    KeyFileError,
    PermissionDenied,
    StoreError,
    StoreNotInitialised,
)
from mapping_tool.security.roles import Role
from mapping_tool.services import accounts, auth
from mapping_tool.store.models import AuditEntry
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    file_hashes,
)


def _actions(user) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        return [(e.actor, e.action) for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_each_role_signs_in_with_its_own_password(store_dir: Path) -> None:
    for name, password, role in ((CUSTODIAN, CUSTODIAN_PASSWORD, Role.CUSTODIAN), (HGT, HGT_PASSWORD, Role.HOME_GROUP_TEACHER)):
        user = auth.sign_in(store_dir, name, password)
        assert user.role is role
        assert user.store.school is not None and user.store.school.school_number == "8123"
        auth.sign_out(user)


def test_wrong_password_opens_nothing_and_changes_no_store_file(store_dir: Path) -> None:
    before = file_hashes(store_dir)
    with pytest.raises(AuthenticationError, match="user name or password is not correct"):
        auth.sign_in(store_dir, CUSTODIAN, "not-the-password-at-all")
    after = file_hashes(store_dir)
    after.pop("smt.signin")  # the attempt is counted in its own file
    before.pop("smt.signin", None)
    assert after == before


def test_unknown_user_gets_the_same_message(store_dir: Path) -> None:
    with pytest.raises(AuthenticationError) as info:
        auth.sign_in(store_dir, "nobody", "whatever-password-1")
    assert info.value.message == auth.WRONG_CREDENTIALS


def test_failed_sign_ins_reach_the_audit_log_at_the_next_sign_in(store_dir: Path) -> None:
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            auth.sign_in(store_dir, PRINCIPAL, "wrong-wrong-wrong-1")
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    actions = _actions(user)
    auth.sign_out(user)
    assert actions.count((PRINCIPAL, "sign-in.failed")) == 2
    assert actions[-1] == (CUSTODIAN, "sign-in")


def test_five_failures_lock_the_account_for_fifteen_minutes(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationError, match="not correct"):
            auth.sign_in(store_dir, PRINCIPAL, "wrong-wrong-wrong-1")
    with pytest.raises(AuthenticationError, match="locked for 15 minutes"):
        auth.sign_in(store_dir, PRINCIPAL, "wrong-wrong-wrong-1")
    with pytest.raises(AuthenticationError, match="locked"):
        auth.sign_in(store_dir, PRINCIPAL, PRINCIPAL_PASSWORD)  # even the right password
    real_now = auth.utcnow
    monkeypatch.setattr(auth, "utcnow", lambda: real_now() + timedelta(minutes=16))
    user = auth.sign_in(store_dir, PRINCIPAL, PRINCIPAL_PASSWORD)
    actions = _actions(user)
    auth.sign_out(user)
    assert (PRINCIPAL, "sign-in.locked-out") in actions
    assert actions.count((PRINCIPAL, "sign-in.failed")) == 5


def test_disabled_account_cannot_sign_in_and_its_stale_session_is_refused(store_dir: Path, custodian) -> None:  # type: ignore[no-untyped-def]
    teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    accounts.disable_user(custodian, HGT)
    with pytest.raises(AuthenticationError, match="disabled"):
        teacher.check_active()
    with pytest.raises(AuthenticationError):
        auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    teacher.signed_out = True
    teacher.store.close()


def test_new_account_must_change_password_and_old_one_stops_working(store_dir: Path, custodian) -> None:  # type: ignore[no-untyped-def]
    accounts.add_user(custodian, "newbie", Role.WELFARE, "harbour-pencil-orchid-77", display_name="New Person")
    user = auth.sign_in(store_dir, "newbie", "harbour-pencil-orchid-77")
    assert user.must_change_password
    with pytest.raises(AuthenticationError, match="current password"):
        auth.change_password(user, "wrong-current-pass-1", "meadow-sparrow-tulip-52")
    auth.change_password(user, "harbour-pencil-orchid-77", "meadow-sparrow-tulip-52")
    auth.sign_out(user)
    with pytest.raises(AuthenticationError):
        auth.sign_in(store_dir, "newbie", "harbour-pencil-orchid-77")
    again = auth.sign_in(store_dir, "newbie", "meadow-sparrow-tulip-52")
    assert not again.must_change_password
    auth.sign_out(again)


def test_only_the_custodian_administers_accounts(store_dir: Path) -> None:
    user = auth.sign_in(store_dir, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            accounts.list_users(user)
        with pytest.raises(PermissionDenied):
            accounts.add_user(user, "x1", Role.WELFARE, "harbour-pencil-orchid-77")
    finally:
        auth.sign_out(user)


def test_missing_store_and_missing_key_file_give_clear_messages(store_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreNotInitialised, match="mapping-tool init"):
        auth.sign_in(tmp_path / "empty", CUSTODIAN, CUSTODIAN_PASSWORD)
    (store_dir / "smt.keys").unlink()
    before = file_hashes(store_dir)
    with pytest.raises(KeyFileError, match="missing"):
        auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(store_dir) == before


def test_edited_key_file_gives_a_clear_message_and_changes_nothing(store_dir: Path) -> None:
    data = json.loads((store_dir / "smt.keys").read_text())
    data["slots"][0]["nonce"] = "not base64!"
    (store_dir / "smt.keys").write_text(json.dumps(data))
    before = file_hashes(store_dir)
    with pytest.raises(KeyFileError, match="damaged"):
        auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(store_dir) == before


def test_a_key_file_from_another_store_is_refused(store_dir: Path, tmp_path: Path) -> None:
    from datetime import date

    other = tmp_path / "other"
    auth.init_store(
        other,
        auth.InitRequest("8123", "Another", "P", date(2026, 1, 1), CUSTODIAN, CUSTODIAN_PASSWORD, "another recovery phrase of many words"),
    )
    (store_dir / "smt.keys").write_bytes((other / "smt.keys").read_bytes())
    before = file_hashes(store_dir)
    with pytest.raises(StoreError, match="damaged or does not match its key file|different store"):
        auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(store_dir) == before


def test_corrupted_database_is_refused_with_a_clear_message(store_dir: Path) -> None:
    db = store_dir / "smt.db"
    data = bytearray(db.read_bytes())
    for offset in range(4096 * 2 + 100, 4096 * 2 + 140):  # page 3
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))
    before = file_hashes(store_dir)
    with pytest.raises(StoreError, match="damaged"):
        user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
        auth.sign_out(user)
    assert file_hashes(store_dir) == before


def test_truncated_database_is_refused_with_a_clear_message(store_dir: Path) -> None:
    db = store_dir / "smt.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2 + 1000])
    before = file_hashes(store_dir)
    with pytest.raises(StoreError, match="damaged"):
        auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(store_dir) == before


def test_init_refuses_bad_input_and_leaves_no_files(tmp_path: Path) -> None:
    from datetime import date

    from mapping_tool.errors import PasswordPolicyError, UsageError

    good = dict(
        school_number="8123", school_name="S", principal_name="P", authorised_on=date(2026, 1, 1),
        custodian_username="cust", custodian_password=CUSTODIAN_PASSWORD,
        recovery_passphrase="velvet harbour quietly juggles seven comets",
    )
    for change, error in (
        ({"school_number": "81x3"}, UsageError),
        ({"school_name": " "}, UsageError),
        ({"principal_name": ""}, UsageError),
        ({"custodian_username": "bad name!"}, UsageError),
        ({"custodian_password": "short"}, PasswordPolicyError),
        ({"recovery_passphrase": "weak"}, PasswordPolicyError),
        ({"authorised_on": date(2999, 1, 1)}, UsageError),
    ):
        with pytest.raises(error):
            auth.init_store(tmp_path / "s", auth.InitRequest(**{**good, **change}))  # type: ignore[arg-type]
        assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())
