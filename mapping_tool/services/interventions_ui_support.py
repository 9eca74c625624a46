"""Small service calls the Interventions screens need beside ``services.interventions``: the
record of what a printout or a saved file of the window contained (the audit log, as the
Students page records its printouts)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from mapping_tool.services.context import UserSession


def record_output(
    user: UserSession, action: str, object_id: str, *, student_keys: Sequence[str] = (), detail: dict[str, Any] | None = None,
) -> None:
    """What left the tool from an Interventions screen (a printout, a PDF, a spreadsheet): the
    student keys it held (and their hash), and the caller's detail (never names)."""
    user.check_active()
    keys = list(student_keys)
    with user.store.write() as session:
        user.store.audit(
            session, user.username, action, object_type="export", object_id=object_id,
            detail={**(detail or {}), "rows": len(keys), "student_keys": keys,
                    "keys_sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest()},
        )
