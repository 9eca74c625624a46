"""Password and passphrase rules (OWASP / NIST 800-63B: length and a common-password check, no
composition rules). zxcvbn's frequency lists hold the common passwords and dictionary words."""

from __future__ import annotations

import secrets

from mapping_tool.errors import PasswordPolicyError

MIN_PASSWORD_LENGTH = 12
MIN_PASSPHRASE_LENGTH = 16
MAX_LENGTH = 256


def _score(secret: str, context: list[str]) -> tuple[int, str]:
    from zxcvbn import zxcvbn  # imported on first use: it loads its word lists

    result = zxcvbn(secret[:100], user_inputs=context)
    warning = (result.get("feedback") or {}).get("warning") or ""
    return int(result["score"]), str(warning)


def check_password(password: str, *, context: list[str] | tuple[str, ...] = ()) -> None:
    """A staff password: at least 12 characters, not common or guessable (zxcvbn score 3+)."""
    _check(password, MIN_PASSWORD_LENGTH, 3, "password", list(context))


def check_passphrase(passphrase: str, *, context: list[str] | tuple[str, ...] = ()) -> None:
    """The recovery passphrase guards every slot at once: at least 16 characters and zxcvbn's top score."""
    _check(passphrase, MIN_PASSPHRASE_LENGTH, 4, "recovery passphrase", list(context))


def _check(secret: str, min_length: int, min_score: int, what: str, context: list[str]) -> None:
    if len(secret) < min_length:
        raise PasswordPolicyError(f"The {what} must be at least {min_length} characters long.")
    if len(secret) > MAX_LENGTH:
        raise PasswordPolicyError(f"The {what} must be at most {MAX_LENGTH} characters long.")
    if secret.strip() != secret or not secret.strip():
        raise PasswordPolicyError(f"The {what} must not start or end with a space.")
    score, warning = _score(secret, context)
    if score < min_score:
        hint = f" ({warning[:1].lower()}{warning[1:].rstrip('.')})" if warning else ""
        raise PasswordPolicyError(
            f"The {what} is too easy to guess{hint}. Use a longer phrase of several unrelated words."
        )


def generate_password(words: int = 4) -> str:
    """A random password that passes the rule (used for demo accounts and resets)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz"
    parts = ["".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(words)]
    return "-".join(parts) + str(secrets.randbelow(90) + 10)
