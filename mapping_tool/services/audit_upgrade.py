"""Entries written by release 0.1.0 named students by key, and a few carried what staff typed
(a note's text, an override's reason, a search). Since issue 10 the log names a student only
through a pseudonym whose link is deleted at disposal, and keeps checksums of typed text. So that
a store upgraded from 0.1.0 keeps that promise too, its old entries are rewritten once, at the
upgrade, the way this release writes them, and the chain is linked again from the first rewritten
entry, inside one transaction:

- before anything changes the old chain is verified; a broken chain is left exactly as it is
  (rewriting it would hide what broke it), and ``audit verify`` goes on reporting it;
- each rewritten entry's previous hash is kept (``audit_resealed``: hashes only), so that a
  witness or a backup's anchor taken before the upgrade still matches;
- an ``audit.pseudonymised`` entry records how many entries were rewritten and re-linked, from
  which entry, and the previous last hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from mapping_tool.security import audit_chain
from mapping_tool.services.context import (
    PSEUDONYM_PREFIX,
    STUDENT_DETAIL_KEY,
    STUDENT_DETAIL_KEYS,
    OpenStore,
    audit_fields,
    pseudonyms_for,
)

logger = logging.getLogger(__name__)

FIRST_PSEUDONYM_REVISION = "0008"
#: Set by the migration to 0008 when the log has entries; removed once they are rewritten.
PENDING = "audit_pseudonyms_pending"


def pending(store: OpenStore) -> bool:
    """True while entries of an older release wait to be rewritten (checked at every opening,
    so that a rewrite that could not run, or failed, is tried again)."""
    with store.read() as session:
        return session.connection().exec_driver_sql("SELECT 1 FROM setting WHERE key = ?", (PENDING,)).first() is not None


def rewrite_if_pending(store: OpenStore, actor: str) -> None:
    """At opening: rewrite the older release's entries when they are still waiting, and the
    anchor and the old chain are intact. Never stops the opening: a failure is logged and the
    rewrite is tried again next time."""
    if not pending(store):
        return
    if store.anchor_broken:
        logger.warning("older audit entries wait to be rewritten: the anchor does not match the log")
        return
    try:
        pseudonymise_old_entries(store, actor)
    except Exception:  # noqa: BLE001 - the opening goes on; the marker stays for the next one
        logger.warning("older audit entries could not be rewritten yet; tried again at the next opening")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def modern_detail(action: str, detail: dict[str, Any]) -> dict[str, Any]:
    """What this release would have written instead of typed text (checksums, not words)."""
    detail = dict(detail)
    if action == "note.added" and isinstance(detail.get("new"), str):
        body = detail.pop("new")
        detail["chars"] = len(body)
        detail["text_sha256"] = _sha256(body)
    if action == "tier.overridden" and isinstance(detail.get("reason"), str):
        detail["reason_sha256"] = _sha256(detail.pop("reason").strip())
    if action == "students.listed" and isinstance(detail.get("search"), str):
        detail["search"] = bool(detail["search"])
    return detail


def _keys_in(object_type: str, object_id: str, detail: dict[str, Any]) -> list[str]:
    keys = [object_id] if object_type == "student" and object_id else []
    single = detail.get(STUDENT_DETAIL_KEY)
    if isinstance(single, str) and single:
        keys.append(single)
    many = detail.get(STUDENT_DETAIL_KEYS)
    if isinstance(many, list):
        keys.extend(str(k) for k in many if k)
    return [k for k in keys if not k.startswith(PSEUDONYM_PREFIX)]


TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{3,10}(?![A-Za-z0-9])")


class Names:
    """Every student key the store knows, and the pseudonym of each key met so far (made as they
    are met, inside the caller's transaction)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.known = {str(k): str(p) for k, p in conn.exec_driver_sql("SELECT student_key, pseudonym FROM audit_pseudonym").all()}
        self.keys = {str(r[0]) for r in conn.exec_driver_sql("SELECT student_key FROM student").all() if r[0]} | set(self.known)

    def of(self, keys: list[str]) -> None:
        missing = [k for k in keys if k not in self.known]
        if missing:
            self.known.update(pseudonyms_for(self.conn, missing))

    def scrub(self, value: Any) -> Any:
        """Any other mention of a student key (a file name in a path, say) becomes its pseudonym."""
        if isinstance(value, str):
            found = [t for t in TOKEN.findall(value) if t in self.keys]
            if not found:
                return value
            self.of(found)
            return TOKEN.sub(lambda m: self.known.get(m.group(0), m.group(0)) if m.group(0) in self.keys else m.group(0), value)
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        return value


def rewrite_entry(conn: Any, action: str, object_type: str, object_id: str, detail_text: str, names: Names) -> tuple[str, str]:
    """(object_id, detail text) as this release writes them; unchanged when nothing names a student."""
    try:
        detail = json.loads(detail_text or "{}")
    except ValueError:
        detail = None
    if not isinstance(detail, dict):
        return object_id, detail_text
    new = modern_detail(action, detail)
    names.of(_keys_in(object_type, object_id, new))
    known = names.known
    if object_type == "student" and object_id and not object_id.startswith(PSEUDONYM_PREFIX):
        object_id = known[object_id]
    if isinstance(new.get(STUDENT_DETAIL_KEY), str) and new[STUDENT_DETAIL_KEY] in known:
        new[STUDENT_DETAIL_KEY] = known[new[STUDENT_DETAIL_KEY]]
    if isinstance(new.get(STUDENT_DETAIL_KEYS), list):
        listed = [known.get(str(k), k) if k else k for k in new[STUDENT_DETAIL_KEYS]]
        new[STUDENT_DETAIL_KEYS] = listed
        if "keys_sha256" in new:  # a hash of real keys could be reversed by guessing them
            new["keys_sha256"] = hashlib.sha256("\n".join(str(k) for k in listed).encode()).hexdigest()
    new = names.scrub(new)
    if new == detail:
        return object_id, detail_text
    return object_id, json.dumps(new, sort_keys=True, ensure_ascii=True, default=str)


def pseudonymise_old_entries(store: OpenStore, actor: str) -> int:
    """Rewrite and re-link the entries of an older release (see the module's text); returns how
    many entries were rewritten (0 when none named a student, or the old chain was broken)."""
    key = store.audit_key()
    with store.write() as session:
        conn = session.connection()
        rows = conn.exec_driver_sql(
            "SELECT id, at, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_entry ORDER BY id"
        ).all()
        start = conn.exec_driver_sql("SELECT prev_hash FROM audit_log_start WHERE id = 1").scalar() or audit_chain.GENESIS
        old = ((r[0], r[7], r[8], audit_fields(r[0], r[1], r[2], r[3], r[4], r[5], r[6])) for r in rows)
        if audit_chain.verify(key, old, start) is not None:
            logger.warning("the audit log is broken: its old entries were left as they are")
            return 0  # still pending: audit verify reports the broken chain
        conn.exec_driver_sql("DELETE FROM setting WHERE key = ?", (PENDING,))  # with the rewrite, or nothing to do
        if not rows:
            return 0
        names = Names(conn)
        sealed = set(int(r[0]) for r in conn.exec_driver_sql("SELECT entry_id FROM audit_resealed").all())
        prev: str | None = None
        rewritten = relinked = 0
        first: int | None = None
        for entry_id, at, who, action, object_type, object_id, detail, prev_hash, digest in rows:
            new_id, new_detail = rewrite_entry(conn, action, object_type, object_id or "", detail or "", names)
            changed = (new_id, new_detail) != (object_id or "", detail or "")
            if first is None and not changed:
                prev = digest
                continue
            if first is None:
                first = entry_id
            linked_to = prev if prev is not None else prev_hash
            new_hash = audit_chain.link(key, linked_to, audit_fields(entry_id, at, who, action, object_type, new_id, new_detail))
            if entry_id not in sealed:  # the hash a witness or backup may hold
                conn.exec_driver_sql("INSERT INTO audit_resealed (entry_id, old_hash) VALUES (?, ?)", (entry_id, digest))
            conn.exec_driver_sql(
                "UPDATE audit_entry SET object_id = ?, detail = ?, prev_hash = ?, hash = ? WHERE id = ?",
                (new_id, new_detail, linked_to, new_hash, entry_id),
            )
            rewritten += int(changed)
            relinked += 1
            prev = new_hash
        if not rewritten:
            return 0
        store.audit(
            session, actor, "audit.pseudonymised", object_type="store",
            detail={"rewritten": rewritten, "relinked": relinked, "from_entry": first, "previous_last_entry": rows[-1][0],
                    "previous_last_hash": rows[-1][8]},
        )
    store.update_anchor()
    return rewritten


def old_hashes(conn: Any, ids: list[int]) -> dict[int, str]:
    """The hash each of ``ids`` had before the entries were rewritten (only those rewritten)."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    return {int(i): str(h) for i, h in conn.exec_driver_sql(
        f"SELECT entry_id, old_hash FROM audit_resealed WHERE entry_id IN ({marks})", tuple(ids)).all()}


__all__ = ["modern_detail", "old_hashes", "pending", "pseudonymise_old_entries", "rewrite_entry", "rewrite_if_pending"]
