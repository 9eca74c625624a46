"""Sign-in attempts kept beside the store, readable before it is opened.

Failure counts, lock times and events that happened while the store was closed (failed
sign-ins, lockouts) live in their own small file, so that a wrong password changes neither the
database nor the key file. Events move into the audit log at the next successful sign-in. No
student data is here; user names are staff account names.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapping_tool.security.keyslots import write_atomic

logger = logging.getLogger(__name__)

STATE_NAME = "smt.signin"


@dataclass
class SignInState:
    failures: dict[str, int] = field(default_factory=dict)
    locked_until: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> SignInState:
        path = folder / STATE_NAME
        try:
            data: Any = json.loads(path.read_text("utf-8"))
            return cls(
                failures={str(k): int(v) for k, v in dict(data.get("failures", {})).items()},
                locked_until={str(k): str(v) for k, v in dict(data.get("locked_until", {})).items()},
                events=[{str(k): str(v) for k, v in dict(e).items()} for e in data.get("events", [])][-500:],
            )
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError):
            logger.warning("the sign-in state file was unreadable and has been reset")
            return cls()

    def save(self, folder: Path) -> None:
        data = {"failures": self.failures, "locked_until": self.locked_until, "events": self.events[-500:]}
        try:
            write_atomic(folder / STATE_NAME, json.dumps(data, indent=1).encode("utf-8"))
        except OSError:
            logger.warning("could not record sign-in attempts (store folder not writable)")

    @property
    def empty(self) -> bool:
        return not (self.failures or self.locked_until or self.events)
