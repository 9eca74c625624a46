import json
from pathlib import Path

import pytest

from mapping_tool.errors import KeyFileError
from mapping_tool.security.keyslots import SCRYPT_N, KeySlotFile, Slot, new_master_key

STORE_ID = "4b8c3f0e-0d0a-4a57-9a55-2f4f9d1c7d11"


def test_slot_unwraps_only_with_its_secret() -> None:
    key = new_master_key()
    slot = Slot.wrap(key, "correct horse battery staple", kind="user", label="amy", store_id=STORE_ID)
    assert slot.n >= 2**17
    assert slot.unwrap("correct horse battery staple", STORE_ID) == key
    assert slot.unwrap("correct horse battery stapler", STORE_ID) is None
    assert key not in slot.wrapped


def test_slot_is_bound_to_its_label_and_store() -> None:
    key = new_master_key()
    slot = Slot.wrap(key, "secret words here ok", kind="user", label="amy", store_id=STORE_ID)
    data = slot.to_json()
    data["label"] = "bob"
    assert Slot.from_json(data).unwrap("secret words here ok", STORE_ID) is None
    assert slot.unwrap("secret words here ok", "00000000-0000-0000-0000-000000000000") is None


def test_weak_kdf_parameters_are_refused(tmp_path: Path) -> None:
    keyfile = KeySlotFile(store_id=STORE_ID)
    keyfile.set_user_slot(new_master_key(), "amy", "a long enough password")
    data = keyfile.to_json()
    data["slots"][0]["kdf"]["n"] = SCRYPT_N // 2
    (tmp_path / "k").write_text(json.dumps(data))
    with pytest.raises(KeyFileError, match="damaged"):
        KeySlotFile.load(tmp_path / "k")


@pytest.mark.parametrize("content", [b"", b"{", b"\x00\xff garbage", b'{"format": "other"}', b"[]"])
def test_damaged_key_file_gives_a_clear_message(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "smt.keys"
    path.write_bytes(content)
    with pytest.raises(KeyFileError) as info:
        KeySlotFile.load(path)
    assert "damaged" in info.value.message
    assert "recovery" in info.value.message


def test_missing_key_file_says_how_to_recover(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        KeySlotFile.load(tmp_path / "smt.keys")
    assert "missing" in info.value.message and "key recover" in info.value.message


def test_save_and_load_round_trip_and_recovery_only_export(tmp_path: Path) -> None:
    key = new_master_key()
    keyfile = KeySlotFile(store_id=STORE_ID)
    keyfile.set_user_slot(key, "amy", "first password here")
    keyfile.set_recovery_slot(key, "a recovery passphrase of words")
    keyfile.save(tmp_path / "smt.keys")
    loaded = KeySlotFile.load(tmp_path / "smt.keys")
    assert loaded.user_slot("AMY").unwrap("first password here", STORE_ID) == key  # type: ignore[union-attr]
    recovery_only = loaded.to_json(only_recovery=True)
    assert [s["kind"] for s in recovery_only["slots"]] == ["recovery"]
    assert not list(tmp_path.glob(".smt.keys.*"))  # no temp file left behind
