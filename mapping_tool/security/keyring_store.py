"""Opt-in "remember on this Windows account" for the custodian's scheduled headless refresh.

Only the custodian's password is remembered, under the store's id, with Windows'
local-machine persistence (it must not roam). Where no keyring backend exists (headless Linux,
CI) the tool says so once and carries on with passwords.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

SERVICE = "Student Mapping Tool"
_warned = False


class KeyringUnavailable(Exception):
    pass


def _backend():  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise KeyringUnavailable("no keyring backend")
    if hasattr(backend, "persist"):
        try:
            backend.persist = "local machine"
        except Exception:  # noqa: BLE001 - only Windows' backend has this knob
            pass
    return backend


def _account(store_id: str, username: str) -> str:
    return f"{store_id}:{username.casefold()}"


def note_unavailable_once(say) -> None:  # type: ignore[no-untyped-def]
    global _warned
    if not _warned:
        _warned = True
        say("No system keyring is available on this computer, so passwords are not remembered; using the password.")


def remember(store_id: str, username: str, password: str) -> None:
    from keyring.errors import KeyringError

    try:
        _backend().set_password(SERVICE, _account(store_id, username), password)
    except (KeyringError, KeyringUnavailable) as exc:
        raise KeyringUnavailable(str(exc)) from exc


def recall(store_id: str, username: str) -> str | None:
    from keyring.errors import KeyringError

    try:
        return _backend().get_password(SERVICE, _account(store_id, username))
    except (KeyringError, KeyringUnavailable) as exc:
        raise KeyringUnavailable(str(exc)) from exc


def forget(store_id: str, username: str) -> None:
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        _backend().delete_password(SERVICE, _account(store_id, username))
    except PasswordDeleteError:
        return
    except (KeyringError, KeyringUnavailable) as exc:
        raise KeyringUnavailable(str(exc)) from exc
