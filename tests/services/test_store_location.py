"""One store per PC: the machine's shared folder by default, a machine-wide setting, ``--store``;
never on a network share nor inside the program's folder; an earlier release's per-user store is
moved on first start with the data custodian's consent and an audit entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text

from mapping_tool import cli, paths
from mapping_tool.errors import AuthenticationError, PermissionDenied, UsageError
from mapping_tool.services import audit, auth, store_move
from mapping_tool.store.files import StoreFiles
from tests.support import file_hashes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0" / "store"
CUSTODIAN, CUSTODIAN_PASSWORD = "custodian", "tangerine-orbit-lantern-57"  # the fixture's test-only secrets
WELFARE, WELFARE_PASSWORD = "welfare", "saffron-glacier-piano-64"


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MAPPING_TOOL_STORE: the store folder comes from the machine folders (temp ones here)."""
    monkeypatch.delenv("MAPPING_TOOL_STORE", raising=False)
    monkeypatch.setenv("MAPPING_TOOL_MACHINE_DIR", str(tmp_path / "ProgramData" / "StudentMappingTool"))
    monkeypatch.setenv("MAPPING_TOOL_USER_DATA_DIR", str(tmp_path / "LocalAppData" / "StudentMappingTool"))
    return tmp_path / "ProgramData" / "StudentMappingTool"


@pytest.fixture
def user_store(machine: Path) -> Path:
    """A store the previous release (0.1.0) kept in one Windows user's own folder."""
    folder = paths.user_store_dir()
    shutil.copytree(FIXTURE, folder)
    return folder


# -- where the store is --------------------------------------------------------------------


def test_the_store_is_per_machine_by_default(machine: Path) -> None:
    choice = paths.store_choice()
    assert choice.folder == machine / "store"
    assert choice.source == "machine default"
    assert paths.default_store_dir() == machine / "store"
    assert "LocalAppData" not in str(paths.default_store_dir())


def test_the_technician_sets_the_store_folder_for_the_machine(machine: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    machine.mkdir(parents=True)
    (machine / "machine.ini").write_text(f"[store]\nfolder = {tmp_path / 'D' / 'SMT'}\n", encoding="utf-8")
    assert paths.store_choice() == paths.StoreChoice(tmp_path / "D" / "SMT", "machine setting")
    # --store still wins
    assert paths.store_choice(str(tmp_path / "other")).folder == tmp_path / "other"
    code, out, err = run(capsys, "store", "where")
    assert code == 0, err
    assert f"Store folder: {tmp_path / 'D' / 'SMT'} (the PC's setting" in out
    assert "A store is there: no" in out


def test_an_unreadable_machine_settings_file_is_one_sentence(machine: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    machine.mkdir(parents=True)
    (machine / "machine.ini").write_text("folder = no section header\n", encoding="utf-8")
    with pytest.raises(UsageError, match="machine settings file .* cannot be read"):
        paths.store_choice()
    code, out, err = run(capsys, "store", "where")
    assert code == 2 and out == "" and err.count("\n") == 1 and "technician" in err


# -- where a store may not live ------------------------------------------------------------


@pytest.mark.parametrize("share", ["//server/share/store", "\\\\server\\share\\store", "\\\\?\\UNC\\server\\share"])
def test_a_unc_path_is_a_network_share(share: str) -> None:
    assert paths.network_location(Path(share)) == "a network share"


def test_local_long_paths_are_not_shares() -> None:
    assert not paths._is_unc("\\\\?\\C:\\ProgramData\\store")
    assert not paths._is_unc("C:\\ProgramData\\store")


def _mounts(tmp_path: Path, *lines: str) -> Path:
    file = tmp_path / "mounts"
    file.write_text("\n".join(["/dev/sda1 / ext4 rw,relatime 0 0", *lines]) + "\n", encoding="utf-8")
    return file


@pytest.mark.parametrize("fs_type", ["nfs4", "cifs", "smb3", "fuse.sshfs"])
def test_a_folder_on_a_network_mount_is_refused(tmp_path: Path, fs_type: str) -> None:
    mnt = tmp_path / "school share"
    (mnt / "sub").mkdir(parents=True)
    escaped = str(mnt).replace(" ", "\\040")
    mounts = _mounts(tmp_path, f"server:/export {escaped} {fs_type} rw 0 0")
    assert paths.mount_filesystem(mnt / "sub" / "store", mounts) == fs_type
    with pytest.raises(UsageError, match=r"is on a network share .* this PC's own disk"):
        paths.check_store_location(mnt / "sub" / "store", mounts_file=mounts)
    # a sibling folder whose name starts the same is not inside the mount
    (tmp_path / "school share2").mkdir()
    paths.check_store_location(tmp_path / "school share2" / "store", mounts_file=mounts)


def test_a_local_folder_is_accepted(tmp_path: Path) -> None:
    paths.check_store_location(tmp_path / "store", mounts_file=_mounts(tmp_path))
    assert paths.network_location(tmp_path) is None  # this machine's real mounts


def test_init_on_a_network_share_is_refused_and_creates_nothing(capsys, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_RECOVERY_PASSPHRASE", "velvet harbour quietly juggles seven comets")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "--store", "//server/share/store", "init", "--school-number", "8123", "--school-name", "X",
        "--principal", "P", "--custodian", "cust",
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "network share" in err
    assert not (tmp_path / "server").exists() and list(tmp_path.iterdir()) == []


def test_sign_in_to_a_store_on_a_network_share_is_refused(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, _, err = run(capsys, "--store", "\\\\server\\share\\store", "--user", CUSTODIAN, "audit", "verify")
    assert code == 2 and "network share" in err and err.count("\n") == 1


def test_a_store_inside_the_program_folder_is_refused(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    inside = paths.install_dir() / "store-here"
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_RECOVERY_PASSPHRASE", "velvet harbour quietly juggles seven comets")
    code, out, err = run(
        capsys, "--store", str(inside), "init", "--school-number", "8123", "--school-name", "X",
        "--principal", "P", "--custodian", "cust",
    )
    assert code == 2 and out == ""
    assert "inside the program's folder" in err and err.count("\n") == 1
    assert not inside.exists()


# -- moving an earlier release's per-user store ----------------------------------------------


def test_a_per_user_store_is_found_when_the_machine_has_none(user_store: Path, machine: Path) -> None:
    assert store_move.user_store_to_move(machine / "store") == user_store
    (machine / "store").mkdir(parents=True)
    shutil.copy(user_store / "smt.keys", machine / "store" / "smt.keys")
    assert store_move.user_store_to_move(machine / "store") is None  # the PC already has a store


def test_commands_do_not_silently_use_or_ignore_the_per_user_store(user_store: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    before = file_hashes(user_store)
    code, out, err = run(capsys, "--user", CUSTODIAN, "audit", "verify")
    assert code != 0 and out == ""
    assert "store move-user-store" in err and err.count("\n") == 1
    assert file_hashes(user_store) == before


def test_a_wrong_password_moves_nothing(user_store: Path, machine: Path) -> None:
    before = file_hashes(user_store)
    with pytest.raises(AuthenticationError, match="not correct"):
        store_move.move_user_store(user_store, machine / "store", CUSTODIAN, "not-the-password-at-all")
    assert file_hashes(user_store) == before
    assert not StoreFiles(machine / "store").exists()


def test_only_the_data_custodian_can_move_the_store(user_store: Path, machine: Path) -> None:
    with pytest.raises(PermissionDenied):
        store_move.move_user_store(user_store, machine / "store", WELFARE, WELFARE_PASSWORD)
    assert StoreFiles(user_store).exists()
    assert not StoreFiles(machine / "store").exists()


def test_the_custodian_moves_the_store_with_an_audit_entry(user_store: Path, machine: Path) -> None:
    target = machine / "store"
    result = store_move.move_user_store(user_store, target, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert result.target == target
    assert not StoreFiles(user_store).exists() and not user_store.exists()
    assert sorted(p.name for p in target.iterdir() if p.is_file() and not p.name.endswith(".lock")) == [
        "smt.anchor", "smt.db", "smt.keys", "smt.signin",
    ]
    user = auth.sign_in(target, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert audit.verify(user).intact
        with user.store.read() as session:
            moved = session.execute(text("SELECT actor FROM audit_entry WHERE action = 'store.moved'")).scalars().all()
            students = session.execute(text("SELECT count(*) FROM student")).scalar_one()
    finally:
        auth.sign_out(user)
    assert moved == [CUSTODIAN]
    assert students == 31
    # the pre-upgrade backup the first sign-in made travelled with the store
    assert list((target / "backups").glob("pre-upgrade-0004-*.smtbackup"))


def test_the_move_refuses_a_target_that_already_has_a_store(user_store: Path, machine: Path, tmp_path: Path) -> None:
    target = machine / "store"
    shutil.copytree(FIXTURE, target)
    before = file_hashes(user_store)
    with pytest.raises(UsageError, match="already a store"):
        store_move.move_user_store(user_store, target, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(user_store) == before


def test_move_user_store_on_the_command_line(user_store: Path, machine: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "store", "where")
    assert code == 0 and f"own folder: {user_store}" in out
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--user", CUSTODIAN, "store", "move-user-store")
    assert code == 0, err
    assert f"Moved the store from {user_store} to {machine / 'store'}" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "audit", "verify")
    assert code == 0 and out.startswith("intact"), err
