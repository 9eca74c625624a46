"""Typed, versioned application settings kept in the store (custodian-settable)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from mapping_tool.errors import UsageError
from mapping_tool.security.keyslots import KeySlotFile
from mapping_tool.security.roles import Role
from mapping_tool.services.context import UserSession
from mapping_tool.store.models import Setting

SETTINGS_VERSION = 1


@dataclass(frozen=True)
class AppSettings:
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    idle_lock_minutes: int = 15


LIMITS = {
    "lockout_attempts": (3, 20, "failed sign-ins before an account locks"),
    "lockout_minutes": (1, 1440, "minutes an account stays locked"),
    "idle_lock_minutes": (1, 60, "idle minutes before the window locks"),
}


def get_settings(user: UserSession) -> AppSettings:
    user.check_active()
    with user.store.read() as session:
        row = session.get(Setting, "app")
    if row is None:
        return AppSettings()
    data = json.loads(row.value)
    known = {f.name for f in fields(AppSettings)}
    return AppSettings(**{k: int(v) for k, v in data.get("values", {}).items() if k in known})


def set_setting(user: UserSession, name: str, value: str) -> AppSettings:
    user.require(Role.CUSTODIAN)
    key = name.replace("-", "_")
    if key not in LIMITS:
        raise UsageError(f"Unknown setting '{name}'. Settings: {', '.join(k.replace('_', '-') for k in LIMITS)}.")
    low, high, what = LIMITS[key]
    try:
        number = int(value)
    except ValueError:
        raise UsageError(f"'{value}' is not a whole number.") from None
    if not low <= number <= high:
        raise UsageError(f"The number of {what} must be between {low} and {high}.")
    current = get_settings(user)
    updated = AppSettings(**{**asdict(current), key: number})
    store = user.store
    with store.write() as session:
        row = session.get(Setting, "app")
        payload = json.dumps({"version": SETTINGS_VERSION, "values": asdict(updated)})
        if row is None:
            session.add(Setting(key="app", value=payload))
        else:
            row.value = payload
        store.audit(
            session, user.username, "setting.changed", object_type="setting", object_id=key,
            detail={"old": getattr(current, key), "new": number},
        )
        if key.startswith("lockout"):
            keyfile = KeySlotFile.load(store.files.keys)
            keyfile.lockout_attempts = updated.lockout_attempts
            keyfile.lockout_minutes = updated.lockout_minutes
            keyfile.save(store.files.keys)
    return updated
