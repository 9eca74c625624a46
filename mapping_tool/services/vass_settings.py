"""The VASS column mapping the data custodian sets once and saves (used by every later import)."""

from __future__ import annotations

import json

from mapping_tool.errors import UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services.context import UserSession
from mapping_tool.store.models import Setting

KEY = "vass_mapping"
FIELDS = ("vcaa_number", "student_key", "unit_code", "result", "year")


def get_mapping(user: UserSession):  # type: ignore[no-untyped-def]
    """The saved VassMapping, or None (then columns are found by their header names)."""
    from importers import VassMapping

    user.check_active()
    with user.store.read() as session:
        row = session.get(Setting, KEY)
    return None if row is None else VassMapping.from_dict(json.loads(row.value))


def save_mapping(user: UserSession, mapping) -> None:  # type: ignore[no-untyped-def]
    user.require(Role.CUSTODIAN)
    store = user.store
    with store.write() as session:
        row = session.get(Setting, KEY)
        old = json.loads(row.value) if row else None
        value = json.dumps(mapping.to_dict())
        if row is None:
            session.add(Setting(key=KEY, value=value))
        else:
            row.value = value
        store.audit(session, user.username, "setting.changed", object_type="setting", object_id=KEY,
                    detail={"old": old, "new": mapping.to_dict()})


def clear_mapping(user: UserSession) -> None:
    user.require(Role.CUSTODIAN)
    with user.store.write() as session:
        row = session.get(Setting, KEY)
        if row is not None:
            session.delete(row)
            user.store.audit(session, user.username, "setting.changed", object_type="setting", object_id=KEY,
                             detail={"old": json.loads(row.value), "new": None})


def parse_column(text: str | None) -> str | int | None:
    """A column as the custodian types it: a header name, or a column number counted from 1."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    if value.isdigit():
        number = int(value)
        if number < 1:
            raise UsageError("Column numbers count from 1.")
        return number - 1
    return value


def describe(mapping) -> list[str]:  # type: ignore[no-untyped-def]
    if mapping is None:
        return ["No saved VASS column settings: columns are found by their header names."]
    header = {True: "yes", False: "no", None: "detect"}[mapping.has_header]
    lines = [f"separator: {mapping.delimiter}", f"header row: {header}"]
    for name in FIELDS:
        value = getattr(mapping, name)
        shown = "(not used)" if value is None else (f"column {value + 1}" if isinstance(value, int) else f"'{value}'")
        lines.append(f"{name}: {shown}")
    return lines
