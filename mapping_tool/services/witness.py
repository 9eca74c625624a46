"""Witnesses of the audit log's end that the store folder cannot roll back.

The anchor file beside the database can be deleted or replaced by an older copy by anyone who
can write to the store folder. So each account that signs in on this PC keeps, in its own local
settings folder (not the store folder), the highest audit entry it has seen: its number and its
chained hash, keyed by the store's id and the user name. Nothing else is kept there: no student
data, no names of students. A log that no longer reaches a witness (cut off, or rewritten) is
reported by ``audit verify`` and at sign-in. Backups carry the anchor of their time, which
``audit verify --backup FILE`` and a restore compare the same way.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapping_tool.paths import settings_dir

logger = logging.getLogger(__name__)

WITNESS_NAME = "audit-witness.json"


@dataclass(frozen=True)
class Witness:
    source: str  # who recorded it, as a clause: "the user NAME saw on this PC", "the backup FILE recorded"
    last_id: int
    last_hash: str


def _path() -> Path:
    return settings_dir() / WITNESS_NAME


def _load() -> dict[str, Any]:
    try:
        data = json.loads(_path().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict[str, Any]) -> None:
    folder = _path().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".audit-witness.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
        os.replace(tmp, _path())
    except OSError:
        logger.warning("could not record the audit witness in the local settings folder")


def local_witnesses(store_id: str) -> list[Witness]:
    """Every account's witness for this store kept on this PC (this Windows account)."""
    out = []
    for user, entry in dict(_load().get(store_id, {})).items():
        try:
            out.append(Witness(f"the user {user} saw on this PC", int(entry["last_id"]), str(entry["last_hash"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def record(store_id: str, username: str, last_id: int, last_hash: str) -> None:
    """Keep the highest entry this account has seen (never lowered)."""
    data = _load()
    mine = dict(data.get(store_id, {}))
    current = mine.get(username) or {}
    try:
        if int(current.get("last_id", 0)) >= last_id:
            return
    except (TypeError, ValueError):
        pass
    mine[username] = {"last_id": last_id, "last_hash": last_hash}
    data[store_id] = mine
    _save(data)


def reset(store_id: str) -> dict[str, Any]:
    """After a restore (an audited, deliberate roll-back): forget this store's witnesses here;
    returns what they were, for the restore's audit entry."""
    data = _load()
    old = data.pop(store_id, {})
    _save(data)
    return dict(old)


def check(
    by_id: dict[int, str], witnesses: list[Witness], last: int | None = None, first: int = 1,
    old: dict[int, str] | None = None,
) -> tuple[str, int] | None:
    """The first witness the log does not reach: (a sentence, the entry), or None. ``by_id``
    holds at least the witnessed entries; ``last`` is the log's last entry (default its max);
    ``first`` is where the log starts (``AuditLogStart.first_id`` once entries past their
    retention period were disposed of). The END of the log is what a witness guards: a witnessed
    entry that was lawfully disposed of (below ``first``) cannot be hash-checked, and is accepted
    when the log still reaches past it. ``old``: the hash an entry had before the entries of an
    older release were rewritten at the upgrade (``audit_resealed``): a witness of that time
    still matches."""
    if last is None:
        last = max(by_id) if by_id else 0
    for w in sorted(witnesses, key=lambda w: -w.last_id):
        if w.last_id > last:
            return (f"the log ends at entry {last}, before entry {w.last_id}, which {w.source}: "
                    "entries were cut off", last + 1)
        if w.last_id < first:
            continue  # disposed of after its retention period; the log goes on past it
        if w.last_id not in by_id:
            return f"entry {w.last_id}, which {w.source}, is missing from the log", w.last_id
        if by_id[w.last_id] != w.last_hash and (old or {}).get(w.last_id) != w.last_hash:
            return f"entry {w.last_id} differs from the one {w.source}: the log was rewritten", w.last_id
    return None
