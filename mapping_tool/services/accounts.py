"""Staff accounts: the custodian creates, resets and disables them; each user sees and corrects
their own profile. A new or reset password must be changed at first sign-in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mapping_tool.errors import UsageError
from mapping_tool.security import passwords
from mapping_tool.security.keyslots import KeySlotFile
from mapping_tool.security.roles import Role
from mapping_tool.services.auth import validate_username
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models import Account, AccountScope

SCOPE_HOME_GROUP = "home_group"
SCOPE_YEAR_LEVEL = "year_level"


@dataclass(frozen=True)
class AccountView:
    username: str
    role: Role
    display_name: str
    position: str
    email: str
    phone: str
    active: bool
    must_change_password: bool
    home_groups: tuple[str, ...]
    year_levels: tuple[str, ...]
    last_sign_in_at: datetime | None
    has_key_slot: bool


def _view(account: Account, slotted: set[str]) -> AccountView:
    return AccountView(
        username=account.username,
        role=Role(account.role),
        display_name=account.display_name,
        position=account.position,
        email=account.email,
        phone=account.phone,
        active=account.active,
        must_change_password=account.must_change_password,
        home_groups=tuple(s.code for s in account.scopes if s.kind == SCOPE_HOME_GROUP),
        year_levels=tuple(s.code for s in account.scopes if s.kind == SCOPE_YEAR_LEVEL),
        last_sign_in_at=account.last_sign_in_at,
        has_key_slot=account.username.casefold() in slotted,
    )


def _slotted(user: UserSession) -> set[str]:
    keyfile = KeySlotFile.load(user.store.files.keys)
    return {s.label.casefold() for s in keyfile.slots if s.kind == "user"}


def _clean_codes(codes: Sequence[str]) -> list[str]:
    out: list[str] = []
    for code in codes:
        value = code.strip().upper()
        if not value or len(value) > 4 or not value.isalnum():
            raise UsageError(f"'{code}' is not a home group or year level code (e.g. 07A or 07).")
        if value not in out:
            out.append(value)
    return out


def add_user(
    user: UserSession,
    username: str,
    role: Role,
    password: str,
    *,
    display_name: str = "",
    position: str = "",
    email: str = "",
    phone: str = "",
    home_groups: Sequence[str] = (),
    year_levels: Sequence[str] = (),
) -> AccountView:
    user.require(Role.CUSTODIAN)
    name = validate_username(username)
    hgs, yls = _clean_codes(home_groups), _clean_codes(year_levels)
    if role is Role.HOME_GROUP_TEACHER and not hgs:
        raise UsageError("A home group teacher needs at least one home group (--home-group).")
    if role is Role.YEAR_LEVEL_COORDINATOR and not yls:
        raise UsageError("A year level coordinator needs at least one year level (--year-level).")
    if role not in (Role.HOME_GROUP_TEACHER,) and hgs:
        raise UsageError("Only a home group teacher is limited to home groups.")
    if role not in (Role.YEAR_LEVEL_COORDINATOR,) and yls:
        raise UsageError("Only a year level coordinator is limited to year levels.")
    passwords.check_password(password, context=[name, display_name])
    store = user.store
    keyfile = KeySlotFile.load(store.files.keys)
    with store.write() as session:
        exists = session.execute(select(Account.id).where(Account.username == name)).first()
        if exists or keyfile.user_slot(name) is not None:
            raise UsageError(f"There is already an account called '{name}'.")
        account = Account(
            username=name,
            role=role.value,
            display_name=display_name.strip() or name,
            position=position.strip(),
            email=email.strip(),
            phone=phone.strip(),
            active=True,
            must_change_password=True,
            created_at=utcnow(),
            created_by=user.username,
        )
        account.scopes = [AccountScope(kind=SCOPE_HOME_GROUP, code=c) for c in hgs] + [
            AccountScope(kind=SCOPE_YEAR_LEVEL, code=c) for c in yls
        ]
        session.add(account)
        session.flush()
        store.audit(
            session,
            user.username,
            "account.created",
            object_type="account",
            object_id=name,
            detail={"role": role.value, "home_groups": hgs, "year_levels": yls},
        )
        keyfile.set_user_slot(store.master_key_for_custodian(user), name, password)
        keyfile.save(store.files.keys)
        view = _view(account, {name.casefold()})
    return view


def list_users(user: UserSession) -> list[AccountView]:
    user.require(Role.CUSTODIAN)
    slotted = _slotted(user)
    with user.store.read() as session:
        accounts = session.execute(select(Account).order_by(Account.username)).scalars().all()
        return [_view(a, slotted) for a in accounts]


def _get(session, username: str) -> Account:  # type: ignore[no-untyped-def]
    account = session.execute(select(Account).where(Account.username == username.strip())).scalar_one_or_none()
    if account is None:
        raise UsageError(f"There is no account called '{username.strip()}'.")
    return account


def disable_user(user: UserSession, username: str) -> None:
    """Disable the account and remove its key slot: the password no longer opens the store."""
    user.require(Role.CUSTODIAN)
    if username.strip().casefold() == user.username.casefold():
        raise UsageError("You cannot disable your own account.")
    store = user.store
    keyfile = KeySlotFile.load(store.files.keys)
    with store.write() as session:
        account = _get(session, username)
        if account.role == Role.CUSTODIAN.value:
            others = session.execute(
                select(Account.id).where(Account.role == Role.CUSTODIAN.value, Account.active, Account.id != account.id)
            ).first()
            if not others:
                raise UsageError("The last active data custodian cannot be disabled.")
        account.active = False
        account.disabled_at = utcnow()
        store.audit(session, user.username, "account.disabled", object_type="account", object_id=account.username)
        keyfile.remove_user_slot(account.username)
        keyfile.save(store.files.keys)


def enable_user(user: UserSession, username: str, password: str) -> None:
    """Re-enable with a new temporary password (the old slot was removed at disabling)."""
    reset_password(user, username, password, enable=True)


def reset_password(user: UserSession, username: str, password: str, *, enable: bool = False) -> None:
    user.require(Role.CUSTODIAN)
    store = user.store
    keyfile = KeySlotFile.load(store.files.keys)
    with store.write() as session:
        account = _get(session, username)
        if not account.active and not enable:
            raise UsageError(f"The account '{account.username}' is disabled; enable it first.")
        passwords.check_password(password, context=[account.username, account.display_name])
        account.must_change_password = account.username.casefold() != user.username.casefold()
        if enable:
            account.active = True
            account.disabled_at = None
        store.audit(
            session,
            user.username,
            "account.enabled" if enable else "account.password-reset",
            object_type="account",
            object_id=account.username,
        )
        keyfile.set_user_slot(store.master_key_for_custodian(user), account.username, password)
        keyfile.save(store.files.keys)


def my_profile(user: UserSession) -> AccountView:
    user.check_active()
    with user.store.read() as session:
        account = session.get(Account, user.account_id)
        assert account is not None
        return _view(account, {user.username.casefold()})


PROFILE_FIELDS = ("display_name", "position", "email", "phone")


def update_profile(user: UserSession, **changes: str) -> AccountView:
    """A user corrects their own name, position and contact details (old and new values audited)."""
    user.check_active()
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise UsageError(f"Unknown profile field: {', '.join(sorted(unknown))}.")
    with user.store.write() as session:
        account = session.get(Account, user.account_id)
        assert account is not None
        diff = {}
        for field_name, value in changes.items():
            value = value.strip()
            if field_name == "display_name" and not value:
                raise UsageError("Your name cannot be empty.")
            if field_name == "email" and value and ("@" not in value or " " in value):
                raise UsageError("Enter an email address like name@education.vic.gov.au.")
            old = getattr(account, field_name)
            if old != value:
                diff[field_name] = {"old": old, "new": value}
                setattr(account, field_name, value)
        if diff:
            user.store.audit(
                session, user.username, "profile.updated", object_type="account", object_id=user.username, detail=diff
            )
        if "display_name" in diff:
            user.display_name = account.display_name
        return _view(account, {user.username.casefold()})
