"""Issue 11, item 6: every field of a key slot is checked against fixed bounds before use, and an
edited salt, nonce or ciphertext is reported as damage, not as a wrong password."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.errors import AuthenticationError, KeyFileError
from mapping_tool.services import auth
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD, file_hashes


def _edit(store_dir: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = store_dir / "smt.keys"
    data = json.loads(path.read_text("utf-8"))
    slot = next(s for s in data["slots"] if s["label"] == HGT)
    change(slot)
    path.write_text(json.dumps(data), "utf-8")


def _flip(text: str, length: int | None = None) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    if length is not None:
        raw = (raw * 4)[:length]
    return base64.b64encode(bytes(raw)).decode()


EDITS = {
    "n = 2**40": lambda s: s["kdf"].update(n=2**40),
    "r = 2**20": lambda s: s["kdf"].update(r=2**20),
    "n = 2**40 and r = 2**20": lambda s: s["kdf"].update(n=2**40, r=2**20),
    "p = 10**9": lambda s: s["kdf"].update(p=10**9),
    "n not a power of two": lambda s: s["kdf"].update(n=2**17 + 1),
    "n as text with 5000 digits": lambda s: s["kdf"].update(n="9" * 5000),
    "n true": lambda s: s["kdf"].update(n=True),
    "salt too short": lambda s: s["kdf"].update(salt=_flip(s["kdf"]["salt"], 4)),
    "salt edited": lambda s: s["kdf"].update(salt=_flip(s["kdf"]["salt"])),
    "salt not base64": lambda s: s["kdf"].update(salt="!!!"),
    "nonce edited": lambda s: s.update(nonce=_flip(s["nonce"])),
    "nonce too long": lambda s: s.update(nonce=_flip(s["nonce"], 16)),
    "ciphertext edited": lambda s: s.update(wrapped=_flip(s["wrapped"])),
    "ciphertext too long": lambda s: s.update(wrapped=_flip(s["wrapped"], 4096)),
    "label too long": lambda s: s.update(label="x" * 5000),
    "kdf not an object": lambda s: s.update(kdf=[1, 2]),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_slot_is_damage_not_a_wrong_password(edit: str, store_dir: Path) -> None:
    _edit(store_dir, EDITS[edit])
    before = file_hashes(store_dir)
    started = time.monotonic()
    with pytest.raises(KeyFileError) as info:
        auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    assert time.monotonic() - started < 5  # refused before any key derivation
    message = info.value.message
    assert message.startswith("The key file smt.keys is damaged"), message
    assert "not correct" not in message
    assert file_hashes(store_dir) == before


def test_absurd_kdf_parameters_exit_with_one_sentence_not_an_unexpected_error(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _edit(store_dir, EDITS["n = 2**40 and r = 2**20"])
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    code = cli.run(["--store", str(store_dir), "--user", HGT, "students", "--out", str(store_dir.parent / "s.csv")])
    err = capsys.readouterr().err
    assert code not in (0, 70)
    assert "key file smt.keys is damaged" in err and len(err.strip().splitlines()) == 1


def test_a_wrong_password_is_still_a_wrong_password(store_dir: Path) -> None:
    with pytest.raises(AuthenticationError, match="not correct"):
        auth.sign_in(store_dir, HGT, "not-the-right-password-1")
    auth.sign_out(auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD))


def test_lockout_settings_out_of_bounds_are_damage(store_dir: Path) -> None:
    path = store_dir / "smt.keys"
    data = json.loads(path.read_text("utf-8"))
    data["lockout"]["attempts"] = 10**12
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(KeyFileError, match="damaged"):
        auth.sign_in(store_dir, HGT, HGT_PASSWORD)
