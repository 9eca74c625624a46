"""Errors a school user can read.

A ``KnownError`` carries one plain sentence that is safe to show in a dialog or on a terminal:
it never contains student data, keys or passwords. Anything that is not a ``KnownError`` is a
bug and reaches the crash dialog (UI) or a one-line "unexpected error" (CLI).
"""


class KnownError(Exception):
    """An expected failure with a message for the user (no student data, no secrets)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(KnownError):
    """Bad input on the command line or in a form."""

    exit_code = 2


class AuthenticationError(KnownError):
    """Wrong user name or password, locked or disabled account."""

    exit_code = 3


class PasswordPolicyError(KnownError):
    """A new password or passphrase does not meet the rules."""

    exit_code = 2


class PermissionDenied(KnownError):
    """The signed-in user's role does not allow this."""

    exit_code = 4


class StoreError(KnownError):
    """The store is missing, damaged, locked or cannot be written."""

    exit_code = 5


class StoreLocked(StoreError):
    """Another instance of the tool has this store open."""


class StoreNotInitialised(StoreError):
    """No store exists yet in the chosen folder."""


class KeyFileError(StoreError):
    """The key-slot file is missing, damaged or belongs to another store."""
