"""The audit log's hash chain: h_i = HMAC-SHA256(K_audit, h_{i-1} || canonical(entry_i)).

K_audit is derived from the store key with HKDF, so only someone who can open the store can
extend the chain; an entry edited, inserted or deleted with the raw key alone breaks it (the
derivation label is public, so this is tamper evidence against casual edits and a record of
truth for investigations, not protection from someone who holds the key and this code). The
last entry's hash is also kept outside the database (the anchor file) so that cutting entries
off the end is detected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS = "0" * 64


def derive_audit_key(master_key: bytes, purpose: bytes = b"audit-chain-v1") -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"student-mapping-tool/" + purpose).derive(
        master_key
    )


def canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str).encode()


def link(key: bytes, prev_hash: str, fields: dict[str, Any]) -> str:
    return hmac.new(key, prev_hash.encode("ascii") + canonical(fields), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainProblem:
    entry_id: int | None
    message: str


def verify(key: bytes, entries: Iterable[tuple[int, str, str, dict[str, Any]]], start: str = GENESIS) -> ChainProblem | None:
    """Walk (id, prev_hash, hash, fields) in id order; return the first problem or None.
    ``start``: the hash the first entry follows (after old entries were disposed of)."""
    prev = start
    expected_id: int | None = None
    for entry_id, prev_hash, stored_hash, fields in entries:
        if expected_id is not None and entry_id != expected_id:
            return ChainProblem(expected_id, f"entry {expected_id} is missing (the next entry is {entry_id})")
        if prev_hash != prev:
            return ChainProblem(entry_id, f"entry {entry_id} does not follow the entry before it")
        if link(key, prev_hash, fields) != stored_hash:
            return ChainProblem(entry_id, f"entry {entry_id} was changed after it was written")
        prev = stored_hash
        expected_id = entry_id + 1
    return None
