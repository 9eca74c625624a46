import pytest

from mapping_tool.errors import PasswordPolicyError
from mapping_tool.security import passwords


@pytest.mark.parametrize("bad", ["short", "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "letmein1234567"])
def test_weak_passwords_are_refused(bad: str) -> None:
    with pytest.raises(PasswordPolicyError):
        passwords.check_password(bad)


def test_password_containing_the_user_name_is_weaker() -> None:
    with pytest.raises(PasswordPolicyError):
        passwords.check_password("jsmithjsmith12", context=["jsmith"])


@pytest.mark.parametrize("good", ["tangerine-orbit-lantern-57", "Zoë’s long ünicode phrase ok", "x" * 3 + "bright-coral-mosaic-20"])
def test_strong_passwords_pass(good: str) -> None:
    passwords.check_password(good)


def test_recovery_passphrase_needs_sixteen_characters_and_top_strength() -> None:
    with pytest.raises(PasswordPolicyError, match="16"):
        passwords.check_passphrase("short-but-ok-12")
    passwords.check_passphrase("velvet harbour quietly juggles seven comets")


def test_generated_passwords_pass_the_rule() -> None:
    for _ in range(5):
        passwords.check_password(passwords.generate_password())
