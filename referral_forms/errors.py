"""Errors of the referral_forms package: one sentence a school user can read, never student data."""

from __future__ import annotations

__all__ = ["DisclosureRefused", "ReferralFormError"]


class ReferralFormError(Exception):
    """Base class: the message is one sentence a welfare coordinator can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DisclosureRefused(ReferralFormError):
    """The rules of the privacy assessment (and of CISS/FVISS) do not allow this disclosure."""
