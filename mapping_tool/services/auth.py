"""Creating a store, signing in (unwrapping your key slot), lockout and password changes."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from mapping_tool.errors import (
    AuthenticationError,
    KnownError,
    StoreError,
    StoreNotInitialised,
    UsageError,
)
from mapping_tool.paths import check_store_location
from mapping_tool.security import passwords, signin_state
from mapping_tool.security.keyslots import (
    DUMMY_SALT,
    KeySlotFile,
    Slot,
    derive_wrapping_key,
    new_master_key,
)
from mapping_tool.security.roles import Role
from mapping_tool.security.signin_state import SignInState
from mapping_tool.services.context import OpenStore, UserSession, load_school, utcnow
from mapping_tool.store import db, migrate
from mapping_tool.store.files import StoreFiles
from mapping_tool.store.models import Account, School

logger = logging.getLogger(__name__)

WRONG_CREDENTIALS = "The user name or password is not correct."


@dataclass(frozen=True)
class InitRequest:
    school_number: str
    school_name: str
    principal_name: str
    authorised_on: date
    custodian_username: str
    custodian_password: str
    recovery_passphrase: str
    custodian_display_name: str = ""
    custodian_position: str = ""
    custodian_email: str = ""
    custodian_phone: str = ""


def validate_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise UsageError("A user name is 1 to 64 letters, digits, dots, dashes or underscores.")
    return name


def validate_school_number(number: str) -> str:
    value = number.strip()
    if not value.isdigit() or not 1 <= len(value) <= 8:
        raise UsageError("The school number is the school's CASES21 number: digits only, e.g. 8123.")
    return value


def init_store(folder: Path, request: InitRequest) -> None:
    """Create an empty encrypted store with its key file, school details and custodian account."""
    files = StoreFiles(folder)
    check_store_location(folder)
    school_number = validate_school_number(request.school_number)
    username = validate_username(request.custodian_username)
    if not request.school_name.strip():
        raise UsageError("Enter the school's name.")
    if not request.principal_name.strip():
        raise UsageError("Enter the name of the principal who authorised use of the tool.")
    if request.authorised_on > date.today():
        raise UsageError("The date the principal authorised use cannot be in the future.")
    passwords.check_password(request.custodian_password, context=[username, request.school_name])
    passwords.check_passphrase(request.recovery_passphrase, context=[username, request.school_name])
    if request.recovery_passphrase == request.custodian_password:
        raise UsageError("The recovery passphrase must differ from the custodian's password.")
    if files.exists():
        raise UsageError(f"A store already exists in {folder}. Choose another folder or restore into an empty one.")

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"The store folder {folder} cannot be created: {exc.strerror}.") from exc
    key = new_master_key()
    store_id = str(uuid.uuid4())
    created_files: list[Path] = []
    try:
        files.db.touch(mode=0o600, exist_ok=False)
        created_files.append(files.db)
        engine = db.create_store_engine(files.db, key)
        try:
            migrate.upgrade(engine)
            store = OpenStore(files, engine, key)
            now = utcnow()
            with store.write() as session:
                session.add(
                    School(
                        store_id=store_id,
                        school_number=school_number,
                        school_name=request.school_name.strip(),
                        principal_name=request.principal_name.strip(),
                        authorised_on=request.authorised_on,
                        created_at=now,
                    )
                )
                session.add(
                    Account(
                        username=username,
                        role=Role.CUSTODIAN.value,
                        display_name=request.custodian_display_name.strip() or username,
                        position=request.custodian_position.strip(),
                        email=request.custodian_email.strip(),
                        phone=request.custodian_phone.strip(),
                        active=True,
                        must_change_password=False,
                        created_at=now,
                        created_by=username,
                        password_changed_at=now,
                    )
                )
                session.flush()
                store.school = load_school(session)
                store.audit(
                    session,
                    username,
                    "store.created",
                    object_type="school",
                    object_id=school_number,
                    detail={"principal_authorised_on": request.authorised_on.isoformat()},
                )
            keyfile = KeySlotFile(store_id=store_id)
            keyfile.set_user_slot(key, username, request.custodian_password)
            keyfile.set_recovery_slot(key, request.recovery_passphrase)
            keyfile.save(files.keys)
            created_files.append(files.keys)
            store.update_anchor()
        finally:
            try:
                db.run_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")
            except Exception:  # noqa: BLE001
                pass
            engine.dispose()
    except BaseException:
        for path in [*created_files, files.anchor, *files.sidecars()]:
            path.unlink(missing_ok=True)
        raise
    logger.info("store created")


def _load_keyfile(files: StoreFiles) -> KeySlotFile:
    check_store_location(files.folder)
    if not files.db.exists():
        if not files.keys.exists():
            raise StoreNotInitialised(
                f"There is no store in {files.folder} yet. Run the first-run set-up (mapping-tool init)."
            )
        raise StoreError(
            f"The store file {files.db.name} is missing from {files.folder}. Restore it from a backup "
            "(mapping-tool restore FILE)."
        )
    return KeySlotFile.load(files.keys)


def open_with_key(files: StoreFiles, key: bytes, keyfile: KeySlotFile, *, actor: str) -> OpenStore:
    """Open the database with the unwrapped key; upgrade an older schema after a backup."""
    engine = db.create_store_engine(files.db, key)
    try:
        db.page_problems(engine, files.db)
        rev = migrate.needs_upgrade(engine)
        if rev is not None:
            from mapping_tool.services import backup

            copy = backup.pre_upgrade_backup(files, engine, key, rev)
            migrate.upgrade(engine)
            upgraded_from = rev
        else:
            upgraded_from, copy = None, None
        store = OpenStore(files, engine, key)
        with store.read() as session:
            store.school = load_school(session)
        store.check_anchor()
        if store.school is None or store.school.store_id != keyfile.store_id:
            raise StoreError(
                f"The key file in {files.folder} belongs to a different store than {files.db.name}."
            )
        from mapping_tool.services import audit_upgrade

        # entries of an older release named students by key: rewritten once, re-linked (tried
        # at every opening until it has been done)
        audit_upgrade.rewrite_if_pending(store, actor)
        if upgraded_from is not None:
            with store.write() as session:
                store.audit(session, actor, "store.upgraded", detail={"from": upgraded_from, "to": migrate.SCHEMA_HEAD})
            if copy is not None:  # counted by the disposal register, aged out like any backup
                from mapping_tool.services import records_backup

                records_backup.record_pre_upgrade_copy(store, actor, copy)
    except StoreError:
        engine.dispose()
        raise
    except Exception as exc:
        engine.dispose()
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            raise db.translate_error(exc, files.db) from exc
        raise
    return store


def _lockout_until(state: SignInState, username: str) -> datetime | None:
    text_value = state.locked_until.get(username.casefold())
    if not text_value:
        return None
    try:
        until = datetime.fromisoformat(text_value)
    except ValueError:
        return None
    return until if until > utcnow() else None


def _event(action: str, username: str) -> dict[str, str]:
    return {"at": utcnow().isoformat(timespec="milliseconds") + "Z", "action": action, "user": username}


def _record_event(state: SignInState, folder: Path, action: str, username: str) -> None:
    state.events.append(_event(action, username))
    state.save(folder)


def sign_in(folder: Path, username: str, password: str) -> UserSession:
    """Unwrap the user's slot, open the store and return the session; wrong secrets open nothing.

    A wrong password changes neither the database nor the key file: the failure is counted in
    the sign-in state file and moved into the audit log at the next successful sign-in.
    """
    files = StoreFiles(folder)
    keyfile = _load_keyfile(files)
    # The whole check runs under the sign-in state's exclusive lock: parallel guesses queue, each
    # failure is counted and recorded, and the attempt after the limit is refused.
    with signin_state.locked(folder) as state:
        slot = keyfile.user_slot(username.strip())
        if slot is None:
            derive_wrapping_key(password, DUMMY_SALT)  # same time as a real attempt
            _record_event(state, folder, "sign-in.failed", "(unknown user)")
            raise AuthenticationError(WRONG_CREDENTIALS)
        who = slot.label.casefold()
        until = _lockout_until(state, who)
        if until is not None:
            _record_event(state, folder, "sign-in.refused-locked", slot.label)
            raise AuthenticationError(
                f"This account is locked after {keyfile.lockout_attempts} failed sign-ins. Try again after "
                f"{until.replace(tzinfo=UTC).astimezone().strftime('%H:%M')}, or ask the data custodian."
            )
        key = slot.unwrap(password, keyfile.store_id)
        if key is None:
            state.failures[who] = state.failures.get(who, 0) + 1
            if state.failures[who] >= keyfile.lockout_attempts:
                state.locked_until[who] = (utcnow() + timedelta(minutes=keyfile.lockout_minutes)).isoformat(timespec="seconds")
                state.failures.pop(who, None)
                state.events.append(_event("sign-in.failed", slot.label))
                _record_event(state, folder, "sign-in.locked-out", slot.label)
                raise AuthenticationError(
                    f"Too many failed sign-ins: this account is locked for {keyfile.lockout_minutes} minutes."
                )
            _record_event(state, folder, "sign-in.failed", slot.label)
            raise AuthenticationError(WRONG_CREDENTIALS)
    store = open_with_key(files, key, keyfile, actor=slot.label)
    try:
        return _finish_sign_in(store, state, slot)
    except BaseException:
        store.close()
        raise


STATE_ID_SETTING = "signin_state_id"
NOTICES_SETTING = "custodian_notices"


def _check_state_file(store: OpenStore, session, state: SignInState, actor: str) -> None:  # type: ignore[no-untyped-def]
    """The store remembers the sign-in state file's id. A different id (the file was deleted,
    replaced or reset, which also resets failure counts and lockouts) is audited and kept for
    the data custodian, who is told at their next sign-in."""
    from mapping_tool.store.models import Setting

    row = session.get(Setting, STATE_ID_SETTING)
    if row is not None and row.value != state.state_id:
        what = "replaced" if state.found else "deleted"
        store.audit(session, actor, "sign-in.state-missing", object_type="store",
                    detail={"file": "smt.signin", "found": what})
        add_custodian_notice(
            session,
            f"The sign-in state file (smt.signin) was {what} before {utcnow():%d/%m/%Y %H:%M} UTC: failed sign-in "
            "counts and lockouts recorded before then were lost. Check the audit log and who can write to the store folder.",
        )
    if row is None:
        session.add(Setting(key=STATE_ID_SETTING, value=state.state_id))
    else:
        row.value = state.state_id


def add_custodian_notice(session, text: str) -> None:  # type: ignore[no-untyped-def]
    """Keep a notice in the store for the data custodian's next sign-in."""
    import json

    from mapping_tool.store.models import Setting

    row = session.get(Setting, NOTICES_SETTING)
    notices = json.loads(row.value) if row is not None else []
    if text in notices:
        return
    notices = [*notices, text][-20:]
    if row is None:
        session.add(Setting(key=NOTICES_SETTING, value=json.dumps(notices)))
    else:
        row.value = json.dumps(notices)


def _take_custodian_notices(store: OpenStore, session, username: str) -> list[str]:  # type: ignore[no-untyped-def]
    import json

    from mapping_tool.store.models import Setting

    row = session.get(Setting, NOTICES_SETTING)
    if row is None:
        return []
    notices = [str(n) for n in json.loads(row.value)]
    session.delete(row)
    store.audit(session, username, "notices.shown", object_type="account", object_id=username, detail={"notices": notices})
    return notices


def _audit_end_problems(store: OpenStore, session) -> list[str]:  # type: ignore[no-untyped-def]
    """A missing anchor, or a log that no longer reaches a witness kept on this PC."""
    from mapping_tool.services import witness

    problems = [store.anchor_problem] if store.anchor_problem else []
    witnesses = witness.local_witnesses(store.school.store_id if store.school else "")
    if witnesses:
        conn = session.connection()
        ids = sorted({w.last_id for w in witnesses})
        marks = ", ".join("?" for _ in ids)
        by_id = {int(i): str(h) for i, h in conn.exec_driver_sql(
            f"SELECT id, hash FROM audit_entry WHERE id IN ({marks})", tuple(ids)).all()}
        last = conn.exec_driver_sql("SELECT max(id) FROM audit_entry").scalar() or 0
        # entries past their retention period may have been disposed of: the log starts later
        first = conn.exec_driver_sql("SELECT first_id FROM audit_log_start WHERE id = 1").scalar() or 1
        from mapping_tool.services.audit_upgrade import old_hashes

        found = witness.check(by_id, witnesses, int(last), int(first), old_hashes(conn, ids))
        if found is not None:
            problems.append(found[0])
    return problems


def _report_audit_end(store: OpenStore, session, actor: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        store.audit(session, actor, "audit.end-problem", object_type="store", detail={"problem": problem})
        add_custodian_notice(
            session,
            f"The audit log may have been cut short: {problem}. Run “audit verify” and compare with your backups.",
        )


def _finish_sign_in(store: OpenStore, state: SignInState, slot: Slot) -> UserSession:
    if not state.state_id:  # a first sign-in, or the file was deleted: it gets an id now
        with signin_state.locked(store.files.folder) as current:
            if not current.state_id:
                current.save(store.files.folder)
            state.state_id = current.state_id
    flushed = list(state.events)
    with store.write() as session:
        account = session.execute(select(Account).where(Account.username == slot.label)).scalar_one_or_none()
        end_problems = _audit_end_problems(store, session)
        _report_audit_end(store, session, slot.label, end_problems)
        _flush_events(store, session, state)
        _check_state_file(store, session, state, slot.label)
        if account is None or not account.active:
            store.audit(session, slot.label, "sign-in.refused", detail={"reason": "disabled"})
            user = None
        else:
            account.last_sign_in_at = utcnow()
            store.audit(session, account.username, "sign-in", object_type="account", object_id=account.username)
            user = UserSession(
                store=store,
                account_id=account.id,
                username=account.username,
                role=Role(account.role),
                display_name=account.display_name,
                must_change_password=account.must_change_password,
            )
        if user is not None and user.role is Role.CUSTODIAN:
            user.notices = _take_custodian_notices(store, session, user.username)
    who = slot.label.casefold()
    with signin_state.locked(store.files.folder) as current:
        # only what was flushed into the audit log leaves the file: failures recorded meanwhile stay
        events = list(current.events)
        for event in flushed:
            if event in events:
                events.remove(event)
        if events != current.events or who in current.failures or who in current.locked_until:
            current.events = events
            current.failures.pop(who, None)
            current.locked_until.pop(who, None)
            current.save(store.files.folder)
    if user is None:
        raise AuthenticationError("This account has been disabled by the data custodian.")
    if not end_problems:
        _witness(store, user.username)
    else:
        store.witness_held = True
    logger.info("signed in (role %s)", user.role.value)
    return user


def _witness(store: OpenStore, username: str) -> None:
    """Keep the log's end in this account's local settings (a witness the folder cannot roll back)."""
    from mapping_tool.services import witness

    last = store.last_entry()
    if last is not None and store.school is not None:
        witness.record(store.school.store_id, username, *last)


def _flush_events(store: OpenStore, session, state: SignInState) -> None:  # type: ignore[no-untyped-def]
    for event in state.events:
        try:
            at = datetime.fromisoformat(event["at"].rstrip("Z"))
        except (KeyError, ValueError):
            at = None
        store.audit(
            session,
            event.get("user", "(unknown user)"),
            event.get("action", "sign-in.failed"),
            object_type="account",
            object_id=event.get("user", ""),
            detail={"recorded": "while the store was closed"},
            at=at,
        )


def open_with_recovery(folder: Path, passphrase: str, *, keyfile: KeySlotFile | None = None) -> tuple[OpenStore, KeySlotFile]:
    """Open the store with the recovery passphrase (custodian tasks: recover, restore)."""
    files = StoreFiles(folder)
    check_store_location(folder)
    keyfile = keyfile or _load_keyfile(files)
    slot = keyfile.recovery_slot()
    if slot is None:
        raise AuthenticationError("This key file has no recovery slot.")
    key = slot.unwrap(passphrase, keyfile.store_id)
    if key is None:
        if files.folder.exists():
            with signin_state.locked(files.folder) as state:
                _record_event(state, files.folder, "recovery.failed", "recovery")
        raise AuthenticationError("The recovery passphrase is not correct.")
    return open_with_key(files, key, keyfile, actor="recovery"), keyfile


def verify_password(user: UserSession, password: str) -> bool:
    """Re-authentication (idle unlock, key display): the same user's slot must unwrap."""
    keyfile = KeySlotFile.load(user.store.files.keys)
    slot = keyfile.user_slot(user.username)
    return slot is not None and slot.unwrap(password, keyfile.store_id) is not None


def change_password(user: UserSession, current: str, new: str) -> None:
    """Re-wrap the master key under the new password; clears the must-change flag."""
    user.check_active()
    if current == new:
        raise UsageError("The new password must differ from the current one.")
    passwords.check_password(new, context=[user.username, user.display_name])
    files = user.store.files
    keyfile = KeySlotFile.load(files.keys)
    slot = keyfile.user_slot(user.username)
    key = slot.unwrap(current, keyfile.store_id) if slot else None
    if key is None:
        raise AuthenticationError("The current password is not correct.")
    keyfile.set_user_slot(key, user.username, new)
    with user.store.write() as session:
        account = session.get(Account, user.account_id)
        assert account is not None
        account.must_change_password = False
        account.password_changed_at = utcnow()
        user.store.audit(session, user.username, "password.changed", object_type="account", object_id=user.username)
        keyfile.save(files.keys)  # inside the transaction: a failed save rolls the audit back
    user.must_change_password = False


def sign_out(user: UserSession) -> None:
    if user.signed_out:
        return
    _auto_backup_at_sign_out(user)
    try:
        with user.store.write() as session:
            user.store.audit(session, user.username, "sign-out", object_type="account", object_id=user.username)
        if not user.store.witness_held:
            _witness(user.store, user.username)
    finally:
        user.signed_out = True
        user.store.close()


def record_unlock(user: UserSession, ok: bool) -> None:
    with user.store.write() as session:
        user.store.audit(session, user.username, "unlock" if ok else "unlock.failed", object_type="account", object_id=user.username)


def _backup_folder_set(user: UserSession) -> bool:
    """Whether the custodian chose a backup folder (the retention class "backup-folder", whose
    default is none). Checked before loading the backup modules, which every command would
    otherwise load at sign-out (its models alone take 0.2 s); ``auto_backup_if_due`` checks again."""
    with user.store.read() as session:
        row = session.connection().exec_driver_sql(
            "SELECT value FROM retention_setting WHERE class_code = 'backup-folder'"
        ).first()
    return bool(row and row[0])


def _auto_backup_at_sign_out(user: UserSession) -> None:
    """The custodian's automatic backup (issue 10): at sign-out, at most once a day, when a
    backup folder is set. A failed backup never stops the sign-out; it is logged and recorded."""
    if user.role is not Role.CUSTODIAN:
        return
    folder = user.store.files.backups
    if folder.is_dir() and (any(folder.glob("pre-upgrade-*")) or any(folder.glob("replaced-*"))):
        # copies taken before an upgrade or replaced by a restore age out like backups
        from mapping_tool.services import records_backup

        try:
            records_backup.age_out_local_copies(user)
        except KnownError as exc:
            logger.warning("old copies in the store's backups folder were not aged out: %s", type(exc).__name__)
    if not _backup_folder_set(user):
        return
    from mapping_tool.services import records_backup

    try:
        records_backup.auto_backup_if_due(user)
    except KnownError as exc:
        logger.warning("automatic backup at sign-out failed: %s", type(exc).__name__)
        try:
            with user.store.write() as session:
                user.store.audit(session, user.username, "backup.failed", object_type="backup",
                                 detail={"reason": exc.message})
        except KnownError:
            pass
