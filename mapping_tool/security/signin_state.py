"""Sign-in attempts kept beside the store, readable before it is opened.

Failure counts, lock times and events that happened while the store was closed (failed
sign-ins, lockouts) live in their own small file, so that a wrong password changes neither the
database nor the key file. Events move into the audit log at the next successful sign-in. No
student data is here; user names are staff account names.

Every read-change-write of the file happens under an exclusive lock on ``smt.signin.lock``
(:func:`locked`), held across the password check: parallel wrong passwords queue behind each
other, each failure is counted and recorded, and the attempt after the limit is refused whatever
the timing. The file carries a random id that the store also records, so that a deleted or
replaced file (which would reset the counts) is noticed at the next sign-in.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from mapping_tool.errors import AuthenticationError
from mapping_tool.security.keyslots import write_atomic

logger = logging.getLogger(__name__)

STATE_NAME = "smt.signin"
LOCK_NAME = "smt.signin.lock"
LOCK_WAIT_SECONDS = 60.0


@dataclass
class SignInState:
    failures: dict[str, int] = field(default_factory=dict)
    locked_until: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, str]] = field(default_factory=list)
    state_id: str = ""  # random; the store records it (a deleted or replaced file is noticed)
    found: bool = False  # the file was there and readable when loaded

    @classmethod
    def load(cls, folder: Path) -> SignInState:
        path = folder / STATE_NAME
        try:
            data: Any = json.loads(path.read_text("utf-8"))
            return cls(
                failures={str(k): int(v) for k, v in dict(data.get("failures", {})).items()},
                locked_until={str(k): str(v) for k, v in dict(data.get("locked_until", {})).items()},
                events=[{str(k): str(v) for k, v in dict(e).items()} for e in data.get("events", [])][-500:],
                state_id=str(data.get("id", "")),
                found=True,
            )
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError):
            logger.warning("the sign-in state file was unreadable and has been reset")
            return cls()

    def save(self, folder: Path) -> None:
        if not self.state_id:
            self.state_id = uuid.uuid4().hex
        data = {
            "id": self.state_id, "failures": self.failures, "locked_until": self.locked_until,
            "events": self.events[-500:],
        }
        try:
            write_atomic(folder / STATE_NAME, json.dumps(data, indent=1).encode("utf-8"))
        except OSError:
            logger.warning("could not record sign-in attempts (store folder not writable)")

    @property
    def empty(self) -> bool:
        return not (self.failures or self.locked_until or self.events)


@contextmanager
def locked(folder: Path) -> Iterator[SignInState]:
    """The state, loaded under an exclusive lock held until the block ends (other processes and
    threads wait). A folder where no lock file can be made (read only) is used unlocked: nothing
    can be recorded there anyway."""
    lock = FileLock(str(folder / LOCK_NAME), timeout=LOCK_WAIT_SECONDS, thread_local=False, is_singleton=False)
    try:
        lock.acquire()
    except Timeout:
        raise AuthenticationError("Another sign-in to this store is taking too long; try again in a minute.") from None
    except OSError:
        logger.warning("could not lock the sign-in state (store folder not writable)")
        yield SignInState.load(folder)
        return
    try:
        yield SignInState.load(folder)
    finally:
        lock.release()
