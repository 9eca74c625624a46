"""Commands: backups, restore and the store key (escrow, recovery, keyring)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mapping_tool.cli._common import (
    ENV_NEW_PASSWORD,
    ENV_PASSWORD,
    ENV_RECOVERY,
    _out,
    _Parser,
    _secret,
    _store_dir,
    _with_user,
)
from mapping_tool.errors import AuthenticationError, KnownError, UsageError


def cmd_backup(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    if args.auto_now:
        return _auto_backup(args, user)
    result = backup.backup(user, Path(args.out), replace=args.force)
    _out(f"Backup written to {result.path} ({result.size:,} bytes, SHA-256 {result.sha256[:16]}…).")
    _out("It is encrypted and carries the key file: keep it somewhere safe, away from this PC.")
    return 0


def _backup_handler(args: argparse.Namespace) -> int:
    """Usage is checked before signing in (a bad command writes nothing, not even a sign-in)."""
    if args.auto_now == bool(args.out):
        raise UsageError("--out FILE is required (or --auto-now, without --out, for an automatic backup).")
    if args.folder and not args.auto_now:
        raise UsageError("--folder goes with --auto-now (automatic backups); use --out FILE for one backup.")
    return _with_user(cmd_backup, output="out")(args)


def _auto_backup(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_backup

    result = records_backup.backup_now(user, Path(args.folder) if args.folder else None)
    _out(f"Backup written to {result.path} ({result.size:,} bytes, {result.students} students) and checked after writing.")
    removed = f"; removed {len(result.removed)} older" if result.removed else ""
    _out(f"{result.kept} automatic backups kept{removed}.")
    return 0


def _restore_drill(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_backup

    report = records_backup.restore_drill(user, Path(args.file) if args.file else None)
    _out(f"Restore drill of {report.backup.name}: restored into a temporary folder, opened and removed; nothing was changed.")
    _out(f"Made {report.created}, schema {report.schema}: {report.students} students, {report.snapshots} extracts, "
         f"{report.audit_entries} audit entries; integrity {report.integrity}.")
    return 0 if report.integrity == "intact" else 1


def cmd_restore(args: argparse.Namespace) -> int:
    from mapping_tool.services import backup

    if args.drill:
        return _with_user(_restore_drill)(args)
    if not args.file:
        raise UsageError("Give the backup FILE to restore (or --drill to try the newest backup without changing anything).")
    folder = _store_dir(args)
    if args.recovery:
        creds = backup.RestoreCredentials(recovery_passphrase=_secret(ENV_RECOVERY, "Recovery passphrase: "))
    else:
        if not args.user:
            raise UsageError("Give --user NAME (a data custodian in the backup), or use --recovery.")
        creds = backup.RestoreCredentials(
            username=args.user, password=_secret(ENV_PASSWORD, f"Password for {args.user}: ")
        )
    backup.restore(folder, Path(args.file), creds)
    _out(f"Restored {Path(args.file).name} into {folder}. The replaced files are kept in {folder / 'backups'}.")
    return 0


def cmd_key_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    password = os.environ.get(ENV_PASSWORD) or _secret(ENV_PASSWORD, "Confirm your password: ")
    key = backup.show_key(user, password)
    _out(key)
    print(
        "This is the store's raw key (SQLCipher 4, PRAGMA key = \"x'<key>'\"). Give it to the business "
        "manager in a sealed envelope; this display was recorded in the audit log.",
        file=sys.stderr,
    )
    return 0


def cmd_key_save_recovery(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    path = backup.save_recovery_slot(user, Path(args.out), replace=args.force)
    _out(f"Saved the recovery key file to {path}. It is useless without the recovery passphrase.")
    return 0


def cmd_key_set_recovery(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    passphrase = _secret(ENV_RECOVERY, "New recovery passphrase: ", confirm=True)
    backup.set_recovery_passphrase(user, passphrase)
    _out("Recovery passphrase changed. Save the recovery key file again (key save-recovery).")
    return 0


def cmd_key_recover(args: argparse.Namespace) -> int:
    from mapping_tool.services import backup

    if not args.user:
        raise UsageError("Name the data custodian who will sign in afterwards with --user NAME.")
    passphrase = _secret(ENV_RECOVERY, "Recovery passphrase: ")
    new_password = _secret(ENV_NEW_PASSWORD, f"New password for {args.user}: ", confirm=True)
    backup.recover_key_file(_store_dir(args), Path(args.recovery_file), passphrase, args.user, new_password)
    _out(f"The key file was rebuilt. {args.user} can sign in; reset other staff's passwords (user reset-password).")
    return 0


def cmd_key_remember(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security import keyring_store
    from mapping_tool.security.roles import Role

    user.require(Role.CUSTODIAN)
    password = os.environ.get(ENV_PASSWORD) or _secret(ENV_PASSWORD, "Confirm your password: ")
    from mapping_tool.services import auth

    if not auth.verify_password(user, password):
        raise AuthenticationError("The password is not correct.")
    try:
        keyring_store.remember(user.store.school.store_id, user.username, password)
    except keyring_store.KeyringUnavailable:
        raise KnownError("No system keyring is available on this computer, so the password cannot be remembered.") from None
    with user.store.write() as session:
        user.store.audit(session, user.username, "key.remembered", object_type="account", object_id=user.username)
    _out("Your password is remembered for this Windows account, for scheduled refreshes.")
    return 0


def cmd_key_forget(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security import keyring_store

    try:
        keyring_store.forget(user.store.school.store_id, user.username)
    except keyring_store.KeyringUnavailable:
        keyring_store.note_unavailable_once(_out)
        return 0
    with user.store.write() as session:
        user.store.audit(session, user.username, "key.forgotten", object_type="account", object_id=user.username)
    _out("The remembered password was removed.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="write a consistent encrypted backup (works while the app is open)")
    p.add_argument("--out", metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it already exists")
    p.add_argument("--auto-now", action="store_true",
                   help="an automatic backup now into the chosen folder, checked, older ones rotated out")
    p.add_argument("--folder", metavar="DIR", help="with --auto-now: the folder for automatic backups (remembered)")
    p.set_defaults(handler=_backup_handler)

    p = sub.add_parser("restore", help="replace the store with a backup (the app must be closed)")
    p.add_argument("file", metavar="FILE", nargs="?")
    p.add_argument("--drill", action="store_true",
                   help="restore the newest backup into a temporary folder, open it and report; changes nothing")
    p.add_argument("--recovery", action="store_true", help=f"open the backup with the recovery passphrase (${ENV_RECOVERY})")
    p.set_defaults(handler=cmd_restore)

    keys = sub.add_parser("key", help="the store key: escrow, recovery slot, keyring (data custodian)")
    ksub = keys.add_subparsers(dest="key_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = ksub.add_parser("show", help="print the raw store key as hex for escrow (audit-logged)")
    p.set_defaults(handler=_with_user(cmd_key_show))
    p = ksub.add_parser("save-recovery", help="save the recovery slot alone, to keep away from this PC")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it already exists")
    p.set_defaults(handler=_with_user(cmd_key_save_recovery, output="out"))
    p = ksub.add_parser("set-recovery", help=f"change the recovery passphrase (${ENV_RECOVERY} or a prompt)")
    p.set_defaults(handler=_with_user(cmd_key_set_recovery))
    p = ksub.add_parser("recover", help="rebuild a lost key file from the saved recovery file and passphrase")
    p.add_argument("--recovery-file", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_key_recover)
    p = ksub.add_parser("remember", help="remember your password in this Windows account's keyring (scheduled refresh)")
    p.set_defaults(handler=_with_user(cmd_key_remember))
    p = ksub.add_parser("forget", help="remove the remembered password")
    p.set_defaults(handler=_with_user(cmd_key_forget))
