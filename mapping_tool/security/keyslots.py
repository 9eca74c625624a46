"""Key slots: the store's master key, wrapped once per secret, in a small side file.

The master key is 32 random bytes and is never written in clear. Each slot holds it wrapped with
AES-256-GCM under a key derived by scrypt (n = 2**17, r = 8, p = 1) from one secret: a staff
account's password, or the custodian's recovery passphrase. Signing in is unwrapping your slot: a
wrong password fails the GCM tag and nothing is opened. The slot's kind, label and the store id
are bound in as associated data, so a slot copied under another name does not unwrap.

The file also carries, in clear, the sign-in lockout rule, which must be known before the store
can be opened. Failure counts live in ``signin_state`` so that a wrong password changes nothing
here.

Writes are atomic: a temp file in the same folder, fsync, then rename over the old file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import threading
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mapping_tool.errors import KeyFileError

FORMAT = "student-mapping-tool/keyslots"
VERSION = 1
KEY_BYTES = 32
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1

KIND_USER = "user"
KIND_RECOVERY = "recovery"

# Fixed bounds for every field of a slot, checked before anything is derived or decrypted: a key
# file edited to ask for absurd work (n = 2**40) or memory is damage, never an attempt.
N_ALLOWED = (2**17, 2**18)
R_RANGE = (8, 16)
P_RANGE = (1, 4)
MAX_SCRYPT_BYTES = 512 * 1024**2  # 128 * n * r
SALT_BYTES = (16, 64)
NONCE_BYTES = 12
WRAPPED_BYTES = KEY_BYTES + 16  # the key and GCM's tag
MAX_LABEL = 64
MAX_SLOTS = 1000
LOCKOUT_ATTEMPTS = (1, 100)
LOCKOUT_MINUTES = (1, 1440)


def _check_sum(fields: dict[str, Any]) -> str:
    """A plain checksum over what GCM cannot tell from a wrong password (the KDF parameters,
    salt, nonce and ciphertext): an edit or a flipped bit there is damage. The slot's id, kind,
    label and store are bound by GCM's associated data instead."""
    import hashlib

    kdf = fields["kdf"]
    text = "|".join(str(x) for x in (kdf["n"], kdf["r"], kdf["p"], kdf["salt"], fields["nonce"], fields["wrapped"]))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _bounded_int(value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or len(str(value)) > 12:
        raise ValueError(f"{what} is not a number")
    number = int(value)
    if not low <= number <= high:
        raise ValueError(f"{what} out of bounds")
    return number


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_master_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


#: The salt an attempt for an unknown account derives with, so that it takes as long as a real one.
DUMMY_SALT = b"\x00" * 16

#: Derivations started ahead of need (see ``derive_ahead``): a keyed digest of the inputs -> the
#: key to come. Each is taken once; the digest's key lives only in this process.
_AHEAD: dict[bytes, Future[bytes]] = {}
_AHEAD_LOCK = threading.Lock()
_AHEAD_KEY = secrets.token_bytes(32)


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """scrypt over the UTF-8 secret; cryptography's Scrypt has no 32 MiB cap, unlike hashlib."""
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(secret.encode("utf-8"))


def _ahead_id(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    text = b"|".join((secret.encode("utf-8"), salt.hex().encode("ascii"), str(n).encode(), str(r).encode(), str(p).encode()))
    return hmac.new(_AHEAD_KEY, text, hashlib.sha256).digest()


def derive_ahead(secret: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> None:
    """Start deriving on another thread; ``derive_wrapping_key`` with the same inputs takes the
    result. scrypt leaves the interpreter free, so a command loads the store's modules meanwhile
    instead of waiting ~0.4 s for the key and then ~0.5 s for the modules. The parameters come
    from a slot that passed ``KeySlotFile.load``'s bounds; the key is only used, as before, after
    the sign-in lock and lockout checks."""
    ident = _ahead_id(secret, salt, n, r, p)
    future: Future[bytes] = Future()
    with _AHEAD_LOCK:
        if ident in _AHEAD:
            return
        _AHEAD[ident] = future

    def work() -> None:
        try:
            future.set_result(_scrypt(secret, salt, n, r, p))
        except BaseException as exc:  # handed to whoever takes the result
            future.set_exception(exc)

    threading.Thread(target=work, name="key-derivation", daemon=True).start()


def derive_for_sign_in_ahead(keys: Path, username: str, secret: str) -> None:
    """Start the derivation a sign-in as ``username`` will do (the dummy one for an unknown
    account). A key file that cannot be read, for whatever reason, starts nothing: the sign-in
    reads it again and reports what is wrong."""
    try:
        keyfile = KeySlotFile.load(keys)
    except Exception:  # noqa: BLE001  (only a head start: never the place that reports)
        return
    slot = keyfile.user_slot(username.strip())
    if slot is None:
        derive_ahead(secret, DUMMY_SALT)
    else:
        derive_ahead(secret, slot.salt, slot.n, slot.r, slot.p)


def forget_ahead() -> None:
    """Drop every derivation started ahead and not taken (a locked account, an unknown key
    file): a thread still running finishes into nothing."""
    with _AHEAD_LOCK:
        _AHEAD.clear()


def derive_wrapping_key(secret: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    """scrypt over the UTF-8 secret, or the result of a ``derive_ahead`` with the same inputs."""
    with _AHEAD_LOCK:
        future = _AHEAD.pop(_ahead_id(secret, salt, n, r, p), None) if _AHEAD else None
    if future is not None:
        return future.result()
    return _scrypt(secret, salt, n, r, p)


@dataclass
class Slot:
    id: str
    kind: str
    label: str
    salt: bytes
    nonce: bytes
    wrapped: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    created: str = ""

    def aad(self, store_id: str) -> bytes:
        return f"{FORMAT}|{store_id}|{self.id}|{self.kind}|{self.label}".encode()

    def unwrap(self, secret: str, store_id: str) -> bytes | None:
        """The master key, or None when the secret is wrong (GCM tag fails)."""
        wrapping = derive_wrapping_key(secret, self.salt, self.n, self.r, self.p)
        try:
            return AESGCM(wrapping).decrypt(self.nonce, self.wrapped, self.aad(store_id))
        except InvalidTag:
            return None

    @classmethod
    def wrap(cls, master_key: bytes, secret: str, *, kind: str, label: str, store_id: str) -> Slot:
        salt = secrets.token_bytes(16)
        nonce = secrets.token_bytes(12)
        slot = cls(
            id=uuid.uuid4().hex,
            kind=kind,
            label=label,
            salt=salt,
            nonce=nonce,
            wrapped=b"",
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        wrapping = derive_wrapping_key(secret, salt)
        slot.wrapped = AESGCM(wrapping).encrypt(nonce, master_key, slot.aad(store_id))
        return slot

    def to_json(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "kdf": {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)},
            "cipher": "AES-256-GCM",
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
            "created": self.created,
        }
        data["check"] = _check_sum(data)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Slot:
        """A slot from the file, every field checked against fixed bounds before use; raises
        ValueError saying what is wrong ("has a nonce of the wrong length")."""
        if not isinstance(data, dict):
            raise ValueError("is not a key slot")
        kdf = data["kdf"]
        if not isinstance(kdf, dict) or kdf.get("name") != "scrypt" or data.get("cipher") != "AES-256-GCM":
            raise ValueError("has an unknown key derivation or cipher")
        n = _bounded_int(kdf["n"], N_ALLOWED[0], N_ALLOWED[-1], "n")
        if n not in N_ALLOWED:
            raise ValueError("has key derivation parameters out of bounds")
        r = _bounded_int(kdf["r"], *R_RANGE, "r")
        p = _bounded_int(kdf["p"], *P_RANGE, "p")
        if 128 * n * r > MAX_SCRYPT_BYTES:
            raise ValueError("has key derivation parameters out of bounds")
        for name in ("id", "kind", "label", "nonce", "wrapped"):
            if not isinstance(data[name], str) or len(data[name]) > 256:
                raise ValueError(f"has a bad {name}")
        if not isinstance(kdf["salt"], str) or len(kdf["salt"]) > 256:
            raise ValueError("has a bad salt")
        if data["kind"] not in (KIND_USER, KIND_RECOVERY) or not 0 < len(data["label"]) <= MAX_LABEL:
            raise ValueError("has a bad kind or name")
        try:
            salt, nonce, wrapped = _unb64(kdf["salt"]), _unb64(data["nonce"]), _unb64(data["wrapped"])
        except ValueError:
            raise ValueError("has a salt, nonce or ciphertext that is not valid base64") from None
        if not SALT_BYTES[0] <= len(salt) <= SALT_BYTES[1]:
            raise ValueError("has a salt of the wrong length")
        if len(nonce) != NONCE_BYTES:
            raise ValueError("has a nonce of the wrong length")
        if len(wrapped) != WRAPPED_BYTES:
            raise ValueError("has a ciphertext of the wrong length")
        check = data.get("check")
        if check is not None and check != _check_sum(data):
            raise ValueError("was edited (its salt, nonce or ciphertext does not match its check)")
        created = data.get("created", "")
        return cls(
            id=data["id"], kind=data["kind"], label=data["label"], salt=salt, nonce=nonce, wrapped=wrapped,
            n=n, r=r, p=p, created=str(created)[:64] if isinstance(created, str) else "",
        )


@dataclass
class KeySlotFile:
    """The whole side file. Load, change, then ``save`` (atomic)."""

    store_id: str
    slots: list[Slot] = field(default_factory=list)
    lockout_attempts: int = 5
    lockout_minutes: int = 15

    # -- lookup ---------------------------------------------------------------------------
    def user_slot(self, username: str) -> Slot | None:
        wanted = username.casefold()
        for slot in self.slots:
            if slot.kind == KIND_USER and slot.label.casefold() == wanted:
                return slot
        return None

    def recovery_slot(self) -> Slot | None:
        for slot in self.slots:
            if slot.kind == KIND_RECOVERY:
                return slot
        return None

    # -- changes --------------------------------------------------------------------------
    def set_user_slot(self, master_key: bytes, username: str, password: str) -> Slot:
        self.remove_user_slot(username)
        slot = Slot.wrap(master_key, password, kind=KIND_USER, label=username, store_id=self.store_id)
        self.slots.append(slot)
        return slot

    def remove_user_slot(self, username: str) -> bool:
        before = len(self.slots)
        wanted = username.casefold()
        self.slots = [s for s in self.slots if not (s.kind == KIND_USER and s.label.casefold() == wanted)]
        return len(self.slots) != before

    def set_recovery_slot(self, master_key: bytes, passphrase: str) -> Slot:
        self.slots = [s for s in self.slots if s.kind != KIND_RECOVERY]
        slot = Slot.wrap(master_key, passphrase, kind=KIND_RECOVERY, label="recovery", store_id=self.store_id)
        self.slots.append(slot)
        return slot

    # -- serialisation --------------------------------------------------------------------
    def to_json(self, *, only_recovery: bool = False) -> dict[str, Any]:
        slots = [s for s in self.slots if s.kind == KIND_RECOVERY] if only_recovery else self.slots
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "store_id": self.store_id,
            "slots": [s.to_json() for s in slots],
        }
        if not only_recovery:
            data["lockout"] = {"attempts": self.lockout_attempts, "minutes": self.lockout_minutes}
        return data

    @classmethod
    def from_json(cls, data: Any, *, source: str) -> KeySlotFile:
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a key-slot file")
            if int(data.get("version", 0)) != VERSION:
                raise ValueError("unsupported version")
            lockout = data.get("lockout") or {}
            if not isinstance(lockout, dict) or not isinstance(data["slots"], list) or len(data["slots"]) > MAX_SLOTS:
                raise ValueError("malformed")
            if not isinstance(data["store_id"], str) or len(data["store_id"]) > 64:
                raise ValueError("malformed store id")
            slots = []
            for entry in data["slots"]:
                try:
                    slots.append(Slot.from_json(entry))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    label = entry.get("label") if isinstance(entry, dict) else None
                    who = f"of {label}" if isinstance(label, str) and 0 < len(label) <= MAX_LABEL else "of an account"
                    why = str(exc) if isinstance(exc, ValueError) and str(exc).startswith(("is ", "has ", "was ")) else "is malformed"
                    raise KeyFileError(
                        f"The key file {source} is damaged: the key slot {who} {why}. Restore it from a backup, "
                        "or use the recovery passphrase (mapping-tool key recover)."
                    ) from exc
            ksf = cls(
                store_id=str(uuid.UUID(data["store_id"])),
                slots=slots,
                lockout_attempts=_bounded_int(lockout.get("attempts", 5), *LOCKOUT_ATTEMPTS, "attempts"),
                lockout_minutes=_bounded_int(lockout.get("minutes", 15), *LOCKOUT_MINUTES, "minutes"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KeyFileError(
                f"The key file {source} is damaged or is not a Student Mapping Tool key file. "
                "Restore it from a backup, or use the recovery passphrase (mapping-tool key recover)."
            ) from exc
        return ksf

    @classmethod
    def load(cls, path: Path) -> KeySlotFile:
        if not path.exists():
            raise KeyFileError(
                f"The key file {path.name} is missing from {path.parent}. Restore it from a backup, "
                "or use the recovery passphrase and the saved recovery key file (mapping-tool key recover)."
            )
        try:
            raw = path.read_bytes()
            if len(raw) > 1_000_000:
                raise ValueError("too large")
            data = json.loads(raw.decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise KeyFileError(
                f"The key file {path.name} in {path.parent} cannot be read: it is damaged. Restore it "
                "from a backup, or use the recovery passphrase (mapping-tool key recover)."
            ) from exc
        return cls.from_json(data, source=path.name)

    def save(self, path: Path, *, only_recovery: bool = False) -> None:
        write_atomic(path, json.dumps(self.to_json(only_recovery=only_recovery), indent=1).encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file, never half."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
