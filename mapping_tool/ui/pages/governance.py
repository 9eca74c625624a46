"""Administration tabs for the access policy grid and the audit viewer.

The policy grid shows the privacy assessment's table (the ceiling) in every cell, for every role
and data item; the custodian can narrow a school role (need to know) by unticking, never widen
it past the table. The audit viewer filters by user, student, action and date, checks the chain,
and makes the "who accessed this record" report for one student, to print, to PDF or to Excel.
"""

from __future__ import annotations

import html as _html
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.policy import ITEMS, TABLE_ROLES, WHEN_REQUESTED, Policy, Y
from mapping_tool.security.roles import Role
from mapping_tool.ui.errors import show_error

logger = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
SCHOOL_ROLES = (Role.WELFARE, Role.HOME_GROUP_TEACHER, Role.YEAR_LEVEL_COORDINATOR, Role.PRINCIPAL)
_SCHOOL_ROLE_NAMES = frozenset(r.value for r in SCHOOL_ROLES)
ERROR_STYLE = "color: #1f1f1f; background: #fdecea; border: 1px solid #e0b4b4; padding: 6px;"
OK_STYLE = "color: #1f1f1f; background: #e8f3ea; border: 1px solid #a9cdb1; padding: 6px;"

# Column headings: the seed's role names, broken over two lines so that seven columns fit.
ROLE_HEADERS = {
    "welfare": "Careers and\ntransition,\nwelfare",
    "home-group-teacher": "Home group\nteacher",
    "year-level-coordinator": "Year level\ncoordinator",
    "principal": "Principal\nclass",
    "agency": "Agency\n(reference)",
    "regional-office": "Regional office\n(reference)",
    "central-office": "Central office\n(reference)",
}
_NARROWED_BG = QColor("#fbe9c6")
_REFERENCE_BG = QColor("#f0f0f0")
_REFERENCE_FG = QColor("#555555")


def _esc(text: str) -> str:
    """Text for an HTML text node (quotes left alone: nothing here goes into an attribute)."""
    return _html.escape(text, quote=False)


def local_time(at: str | datetime, fmt: str = "%d/%m/%Y %H:%M:%S") -> str:
    """A stored UTC time (ISO text ending in Z, or a naive UTC datetime) in this PC's local time."""
    if isinstance(at, str):
        try:
            when = datetime.fromisoformat(at.rstrip("Z"))
        except ValueError:
            return at
    else:
        when = at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime(fmt)


def _ceiling_text(value: str) -> str:
    if value == Y:
        return "Y"
    if value == WHEN_REQUESTED:
        return "when requested"
    return "no"


# -- the policy grid ------------------------------------------------------------------------


class PolicyGridModel(QAbstractTableModel):
    """Rows: the table's data items; columns: its roles. Each cell's text is the table's value
    (the ceiling); a school role's cell the table allows carries a tick box for what the role
    sees now. Ticking or unticking asks (``change_requested``); the owner calls the service and
    hands back the new policy with ``set_policy``."""

    change_requested = Signal(str, str, bool)  # role, item, allowed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._policy: Policy | None = None
        self._editable = False
        self._covers: dict[str, str] = {}

    def set_policy(self, policy: Policy, *, editable: bool, covers: dict[str, str] | None = None) -> None:
        if self._policy is None or editable != self._editable:
            self.beginResetModel()
            self._policy, self._editable = policy, editable
            self._covers = dict(covers or {})
            self.endResetModel()
            return
        # Same shape: repaint in place, so that the keyboard focus stays on the cell.
        self._policy = policy
        self._covers = dict(covers or self._covers)
        self.dataChanged.emit(self.index(0, 0), self.index(len(ITEMS) - 1, len(TABLE_ROLES) - 1))

    @property
    def policy(self) -> Policy | None:
        return self._policy

    @staticmethod
    def role_at(column: int) -> str:
        return TABLE_ROLES[column]

    @staticmethod
    def item_at(row: int) -> str:
        return ITEMS[row]

    def index_of(self, role: str, item: str) -> QModelIndex:
        return self.index(ITEMS.index(item), TABLE_ROLES.index(role))

    def narrowable(self, role: str, item: str) -> bool:
        """A school role's cell that the table allows (Y): the custodian may untick it."""
        return self._policy is not None and role in _SCHOOL_ROLE_NAMES and self._policy.ceiling(role, item) == Y

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() or self._policy is None else len(ITEMS)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() or self._policy is None else len(TABLE_ROLES)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if self._policy is None:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(TABLE_ROLES):
            name = TABLE_ROLES[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return ROLE_HEADERS.get(name, name)
            if role == Qt.ItemDataRole.ToolTipRole:
                title = self._policy.role_titles.get(name, name)
                if name in _SCHOOL_ROLE_NAMES:
                    return f"{title}: signs in; the data custodian may narrow what it sees."
                return f"{title}: never signs in; shown for reference only."
        if orientation == Qt.Orientation.Vertical and 0 <= section < len(ITEMS):
            item = ITEMS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return self._policy.titles[item]
            if role == Qt.ItemDataRole.ToolTipRole and self._covers.get(item):
                return f"{self._policy.titles[item]} covers: {self._covers[item]}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._editable and self.narrowable(TABLE_ROLES[index.column()], ITEMS[index.row()]):
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or self._policy is None:
            return None
        p = self._policy
        name, item = TABLE_ROLES[index.column()], ITEMS[index.row()]
        ceiling = p.ceiling(name, item)
        school = name in _SCHOOL_ROLE_NAMES
        narrowable = self.narrowable(name, item)
        allowed = p.allows_item(name, item) if school else ceiling == Y
        if role == Qt.ItemDataRole.DisplayRole:
            text = _ceiling_text(ceiling)
            if narrowable and not allowed:
                text = f"{text} · narrowed"
            if narrowable and not self._editable:  # read-only: a glyph, not a box that looks clickable
                text = f"{'☑' if allowed else '☐'} {text}"
            return text
        if role == Qt.ItemDataRole.CheckStateRole and narrowable and self._editable:
            return Qt.CheckState.Checked if allowed else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            role_title = p.role_titles.get(name, name)
            table = f"The privacy assessment's table says {_ceiling_text(ceiling)!r} for {role_title} and {p.titles[item]}."
            if not school:
                return table + " This role never signs in; shown for reference."
            if not narrowable:
                return table + " It cannot be given more than the table allows."
            state = "sees it now" if allowed else "is narrowed: it does not see it (need to know)"
            hint = " Untick to narrow." if allowed else " Tick to give it back (up to the table)."
            return f"{table} The role {state}.{hint if self._editable else ''}"
        if role == Qt.ItemDataRole.BackgroundRole:
            if not school:
                return QBrush(_REFERENCE_BG)
            if narrowable and not allowed:
                return QBrush(_NARROWED_BG)
            return None
        if role == Qt.ItemDataRole.ForegroundRole and not school:
            return QBrush(_REFERENCE_FG)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = _ceiling_text(ceiling)
            if narrowable:
                return f"{p.titles[item]} for {p.role_titles.get(name, name)}: table {text}, " + (
                    "sees it" if allowed else "narrowed"
                )
            return f"{p.titles[item]} for {p.role_titles.get(name, name)}: table {text}"
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        if not self.flags(index) & Qt.ItemFlag.ItemIsUserCheckable:
            return False
        allowed = Qt.CheckState(value) == Qt.CheckState.Checked
        self.change_requested.emit(TABLE_ROLES[index.column()], ITEMS[index.row()], allowed)
        return True


class PolicyGrid(QWidget):
    """Who may see what: the table's ceiling in every cell; the custodian's narrowing editable."""

    changed = Signal()

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.editable = bool(session.is_custodian)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "What each role may see, from the privacy assessment's table “Levels of Access to data”. "
            "The text in each cell is the table: the most a role may ever see. "
            "What is computed from an item goes with it: narrowing attendance also hides the low attendance "
            "flag, and that role's flag counts and tiers then count only the flags it may see. "
            + (
                "Untick a box to narrow a school role to what it needs to know; tick it again to give it back. "
                "A role can never be given more than the table allows."
                if self.editable
                else "Only the data custodian can narrow a role; this view is read-only."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = PolicyGridModel(self)
        self.view = QTableView()
        self.view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.view.setModel(self.model)
        self.view.setAccessibleName("Who may see what")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(False)
        self.view.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        header.setMinimumSectionSize(self.fontMetrics().horizontalAdvance("Regional office") + 12)
        vheader = self.view.verticalHeader()
        vheader.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vheader.setDefaultSectionSize(self.fontMetrics().height() + 16)
        vheader.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.view)
        note = QLabel(
            "<b>How to read it.</b> ☑ the role sees the item now; ☐ <span style='background:#fbe9c6'>&nbsp;narrowed&nbsp;</span> "
            "by the data custodian (need to know). “Y”, “when requested” and “no” are the table's own values. "
            "Agency, regional and central office never sign in and are shown for reference: agencies receive "
            "consent-backed referrals, the offices de-identified summaries. The data custodian sees every item; "
            "birth dates and other identifiers are for the custodian alone, and notes labelled sensitive only for "
            "their author, the custodian, principal class and careers/welfare staff. "
            + (
                "Each change is recorded in the audit log and applies from each user's next screen."
                if self.editable
                else ""
            )
        )
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(note)
        self.covers_label = QLabel()
        self.covers_label.setWordWrap(True)
        self.covers_label.setAccessibleName("What the selected item covers")
        layout.addWidget(self.covers_label)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Policy message")
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.model.change_requested.connect(self._change)
        self.view.selectionModel().currentChanged.connect(self._show_covers)
        self.refresh()

    @staticmethod
    def _covers(policy: Policy) -> dict[str, str]:
        """Item -> the stored fields it covers, in words (what unticking it hides)."""
        from mapping_tool.services import students

        titles = students.field_titles()
        out: dict[str, list[str]] = {}
        for field_name, item in policy.fields.items():
            out.setdefault(item, []).append(titles.get(field_name, field_name.replace("_", " ").capitalize()).lower())
        return {item: ", ".join(names) for item, names in out.items()}

    def refresh(self) -> None:
        from mapping_tool.services import students

        try:
            policy = students.effective_policy(self.session)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        self.model.set_policy(policy, editable=self.editable, covers=self._covers(policy))

    def _show_covers(self, current: QModelIndex, _previous: QModelIndex) -> None:
        policy = self.model.policy
        if not current.isValid() or policy is None:
            self.covers_label.clear()
            return
        item = PolicyGridModel.item_at(current.row())
        covers = self._covers(policy).get(item, "")
        self.covers_label.setText(f"<b>{_esc(policy.titles[item])}</b> covers: {_esc(covers)}.")

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def set_allowed(self, role: str, item: str, allowed: bool) -> bool:
        """Tick or untick one box as a user would (through the model)."""
        return self.model.setData(
            self.model.index_of(role, item),
            Qt.CheckState.Checked if allowed else Qt.CheckState.Unchecked,
            Qt.ItemDataRole.CheckStateRole,
        )

    def _change(self, role: str, item: str, allowed: bool) -> None:
        from mapping_tool.services import students

        policy = self.model.policy
        assert policy is not None
        try:
            students.set_narrowing(self.session, Role(role), item, allowed=allowed)
        except KnownError as exc:
            self._say(exc.message, error=True)
            self.refresh()
            return
        except Exception as exc:  # noqa: BLE001 - a bug: the crash dialog, and the grid as stored
            self.refresh()
            show_error(self, exc)
            return
        what = policy.titles[item]
        who = Role(role).title
        self._say(
            f"{who} {'may again see' if allowed else 'no longer sees'} {what}. "
            "Recorded in the audit log; it applies from each user's next screen."
        )
        self.refresh()
        self.changed.emit()


# -- the audit viewer -----------------------------------------------------------------------


class AuditColumn(IntEnum):
    ID = 0
    AT = 1
    USER = 2
    ACTION = 3
    OBJECT = 4
    DETAIL = 5


AUDIT_HEADERS = ("Entry", "When", "User", "What they did", "Record", "Details")

# Plain words for each action the services record (an unknown action is shown as recorded).
ACTION_TITLES = {
    "sign-in": "Signed in",
    "sign-out": "Signed out",
    "sign-in.failed": "Failed sign-in",
    "sign-in.locked-out": "Locked out after failed sign-ins",
    "sign-in.refused": "Sign-in refused (account disabled)",
    "unlock": "Unlocked the window",
    "unlock.failed": "Failed to unlock the window",
    "password.changed": "Changed their password",
    "profile.updated": "Updated their profile",
    "student.viewed": "Viewed the student's record",
    "student.view-refused": "Asked for a student they may not see",
    "students.listed": "Opened the student list",
    "notes.viewed": "Viewed notes",
    "note.added": "Added a note",
    "note.corrected": "Corrected a note (the earlier text is kept)",
    "note.correction-refused": "Tried to correct a note they may not correct",
    "note.versions-viewed": "Viewed a note's earlier versions",
    "note.versions-refused": "Asked for a sensitive note's earlier versions they may not read",
    "concern.recorded": "Recorded a relationships concern",
    "tier.overridden": "Overrode the review tier",
    "tier.override-cleared": "Cleared a tier override",
    "export.students": "Exported students",
    "export.audit": "Exported the audit log",
    "export.deidentified": "Exported the de-identified summary",
    "export.data-quality-report": "Exported the data-quality report",
    "export.refused": "Export refused",
    "print.audit-report": "Printed the access report",
    "print.students": "Printed the student list",
    "export.students-view": "Exported the student list to Excel",
    "export.cohort": "Exported the cohort report",
    "data-quality.viewed": "Viewed the data-quality report",
    "import": "Imported an extract",
    "import.refused": "Import refused (problems in the extract)",
    "import.unchanged": "Import skipped (already imported)",
    "account.created": "Added an account",
    "account.disabled": "Disabled an account",
    "account.enabled": "Enabled an account",
    "account.password-reset": "Reset a password",
    "policy.changed": "Changed who may see what",
    "rules.created": "Created the default risk rules",
    "rules.changed": "Changed a risk rule",
    "setting.changed": "Changed a setting",
    "key.shown": "Displayed the store key",
    "key.remembered": "Let this PC remember their key",
    "key.forgotten": "Made this PC forget their key",
    "key.recovery-saved": "Saved the recovery key file",
    "key.recovery-changed": "Changed the recovery passphrase",
    "key.recovered": "Recovered access with the recovery key",
    "recovery.failed": "Failed recovery attempt",
    "backup.created": "Made a backup",
    "backup.restored": "Restored a backup",
    "store.created": "Created the store",
    "store.upgraded": "Upgraded the store",
    "audit.pseudonymised": "Rewrote the older release's log entries to name students by pseudonym",
}
# Referrals, consent and file notes of disclosures (issue 9).
ACTION_TITLES.update({
    "agency.added": "Added an agency to the register",
    "agency.changed": "Changed an agency's details (the earlier details are kept)",
    "consent.recorded": "Recorded a consent",
    "consent.withdrawn": "Recorded a consent's withdrawal",
    "consent.corrected": "Corrected a consent recorded wrongly (a new record replaces it; both are kept)",
    "consent.correction-refused": "Tried to correct a consent they may not correct",
    "consent.evidence-viewed": "Opened a scanned consent form",
    "consents.listed": "Viewed consent records",
    "referral.created": "Drafted a referral to an agency",
    "referral.authorised": "Authorised a referral (with their password)",
    "referral.previewed": "Looked at a referral form: a preview, or a copy of one sent (nothing sent)",
    "referral.sent": "Sent a referral: disclosed information to an agency",
    "referral.status": "Changed a referral's status",
    "referral.viewed": "Viewed a referral",
    "referrals.listed": "Viewed referrals",
    "referrals.designation": "Changed who may share under CISS/FVISS",
    "filenote.written": "File note of a disclosure written",
    "filenotes.viewed": "Viewed file notes",
    "export.filenotes": "Exported file notes",
    "export.referrals": "Exported referrals",
    "export.consents": "Exported consent records",
    "export.agencies": "Exported the agencies register",
    "print.consent-form": "Printed a consent form to sign",
    "filenote.rekeyed": "File note moved with a replaced student's records",
    "filenotes.disposed": "File notes disposed of (after transfer to the official file)",
})
# Interventions (issue 8), records (issue 10) and replaced students (issue 11): the student's
# access report shows this work in words too.
ACTION_TITLES.update({
    "intervention.added": "Added a programme to the catalogue",
    "intervention.changed": "Changed a programme",
    "intervention.retired": "Retired a programme",
    "intervention.restored": "Restored a retired programme",
    "intervention.deleted": "Deleted an unused programme",
    "mapping.added": "Mapped students to a programme",
    "mapping.changed": "Changed a student's participation",
    "mapping.ended": "Ended a student's participation",
    "mappings.viewed": "Viewed programme participants",
    "mappings.imported": "Imported participation from a spreadsheet",
    "mappings.import-refused": "Participation import refused",
    "interventions.student-viewed": "Viewed the student's interventions",
    "evaluation.viewed": "Viewed programme evaluations",
    "evaluation.students-viewed": "Viewed students' evaluation rows",
    "export.evaluation": "Exported an evaluation",
    "meeting.started": "Started a student review meeting",
    "meeting.agenda-viewed": "Viewed a meeting agenda",
    "meeting.decision": "Recorded a meeting decision",
    "meeting.recap-viewed": "Viewed a meeting recap",
    "import.student_replaced": "A key now names another child: the earlier child kept apart",
    "records.transferred": "Transferred the record to the official file",
    "records.subject-access": "Produced an access request export",
    "hold.placed": "Placed a legal hold",
    "hold.released": "Released a legal hold",
    "retention.changed": "Changed a retention period",
    "disposal.prepared": "Prepared a disposal run",
    "disposal.approved": "Approved a disposal run (with their password)",
    "disposal.run": "Ran an approved disposal run",
    "export.disposal-review": "Exported the disposal review",
    "export.disposal-register": "Exported the disposal register",
})
# Hardening (issue 11), backups, privacy and breaches (issue 10), and the file notes' check
# kept across disposal of old audit entries (issue 9): every action in plain words.
ACTION_TITLES.update({
    "audit.end-problem": "Found that the audit log may have been cut short",
    "sign-in.state-missing": "Found the sign-in lockout record deleted or replaced",
    "notices.shown": "Was shown warnings kept for the data custodian",
    "import.unconfirmed": "Import held back: its warnings were not confirmed",
    "store.moved": "Moved the store to the shared folder on this PC",
    "backup.failed": "Automatic backup at sign-out failed",
    "backup.manifest": "Made a backup and listed the students in it",
    "backup.rotated": "Removed old automatic backups",
    "backup.aged-out": "Removed copies kept before an upgrade or a restore, past the backups' maximum age",
    "breach.recorded": "Recorded a privacy breach",
    "export.unusual-access": "Exported the unusual access report",
    "privacy.acknowledged": "Read and accepted the privacy statement",
    "privacy.policy-changed": "Changed the school's privacy policy text",
    "filenotes.restated": "Kept the file notes' checks before old audit entries were disposed of",
})

# (label, action prefix) for the action filter; the service matches by prefix.
ACTION_FILTERS = (
    ("All actions", ""),
    ("Sign-in, sign-out and lockouts", "sign"),
    ("Student records viewed", "student."),
    ("Student lists opened", "students."),
    ("Notes", "note"),
    ("Exports", "export"),
    ("Prints", "print"),
    ("Imports", "import"),
    ("Accounts", "account"),
    ("Who may see what", "policy"),
    ("Risk rules", "rules"),
    ("Tier overrides", "tier"),
    ("Relationships concern", "concern"),
    ("Keys", "key"),
    ("Backups", "backup"),
    ("Settings", "setting"),
    ("Password changes", "password"),
    ("Window unlocks", "unlock"),
)

_OBJECT_TITLES = {
    "student": "Student",
    "account": "Account",
    "role": "Role",
    "rules": "Rule version",
    "snapshot": "Extract",
    "extract": "Extract",
    "store": "Store",
    "audit": "Audit log",
    "students": "Students",
    "export": "File",
    "disposal-run": "Disposal run",
    "backup": "Backup",
    "breach": "Privacy breach",
    "setting": "Setting",
}


def action_title(action: str) -> str:
    """In words; an action added later without a title still reads as words, not a code."""
    if action in ACTION_TITLES:
        return ACTION_TITLES[action]
    return action.replace(".", ": ").replace("-", " ").replace("_", " ").capitalize()


def object_text(object_type: str, object_id: str) -> str:
    if object_type == "role":
        try:
            return f"Role: {Role(object_id).title}"
        except ValueError:
            pass
    title = _OBJECT_TITLES.get(object_type, object_type.capitalize())
    if object_type == "store":
        return title
    return f"{title} {object_id}".strip() if object_id else ("" if object_type == "students" else title)


_DETAIL_ORDER = ("item", "setting", "old", "rows", "student_keys", "fields", "columns", "path", "reason")


def describe_detail(detail: str, policy: Policy | None = None) -> str:
    """A stored detail (JSON) in words: what changed first, data items rather than field names,
    counts of students and rows rather than lists."""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail[:300]
    if not isinstance(data, dict) or not data:
        return ""
    from risk_factors import SETTING_LABELS

    # Digests prove what a file held; the raw entry (the cell's tooltip, the Excel export) keeps them.
    keys = [k for k in _DETAIL_ORDER if k in data] + [
        k for k in data if k not in _DETAIL_ORDER and k != "new" and "sha256" not in k
    ]
    parts: list[str] = []
    for k in keys:
        v = data[k]
        if k != "old" and v in ("", [], {}, None):
            continue  # "home groups: ; year levels:" says nothing
        if k == "role" and isinstance(v, str):
            try:
                parts.append(f"role: {Role(v).title}")
                continue
            except ValueError:
                pass
        if k == "to" and isinstance(v, str):
            parts.append({"pdf": "as a PDF", "printer": "on paper", "xlsx": "as an Excel file"}.get(v, f"to {v}"))
            continue
        if k == "filter" and isinstance(v, str):
            parts.append(f"showing {v}")
            continue
        if k == "old":
            if "new" in data:
                parts.append(f"{_value_text(v)} → {_value_text(data['new'])}")
            else:
                parts.append(f"was {_value_text(v)}")
        elif k in ("fields", "columns") and isinstance(v, list):
            parts.append(f"items: {_items_seen(v, policy)}")
        elif k == "student_keys" and isinstance(v, list):
            parts.append(f"{len(v)} student{'s' if len(v) != 1 else ''}")
        elif k == "rows" and isinstance(v, int | list):
            n = v if isinstance(v, int) else len(v)
            parts.append(f"{n:,} row{'s' if n != 1 else ''}")
        elif k == "item" and policy is not None and v in policy.titles:
            parts.append(policy.titles[v])
        elif k == "setting" and isinstance(v, str):
            parts.append(SETTING_LABELS.get(v, v))
        elif k == "reason":
            parts.append(f"why: “{v}”")
        elif k == "search":
            if v:
                parts.append("with a search")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            parts.append(f"{len(v)} {k.replace('_', ' ')}")
        else:
            parts.append(f"{k.replace('_', ' ')}: {_value_text(v)}")
    return "; ".join(p for p in parts if p)[:400]


def _value_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:8]) + (f" … ({len(value)} in all)" if len(value) > 8 else "")
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)[:120]
    text = str(value)
    # ISO dates and times (as stored) shown dd/mm/yyyy
    return re.sub(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?\b",
                  lambda m: f"{m[3]}/{m[2]}/{m[1]}" + (f" {m[4]}" if m[4] else ""), text)


def _items_seen(fields: list[str], policy: Policy | None) -> str:
    if policy is None:
        return f"{len(fields)} fields"
    titles: list[str] = []
    for f in fields:
        item = policy.fields.get(f)
        if item is None:
            continue
        title = policy.titles.get(item, "identifiers (custodian only)" if item == "custodian_only" else item)
        if title not in titles:
            titles.append(title)
    return ", ".join(titles) if titles else f"{len(fields)} fields"


class AuditTableModel(QAbstractTableModel):
    """Immutable AuditRow objects, newest first; times shown in local time as dd/mm/yyyy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list = []  # type: ignore[type-arg]
        self._policy: Policy | None = None

    def set_rows(self, rows: list, policy: Policy | None = None) -> None:  # type: ignore[type-arg]
        self.beginResetModel()
        self._rows = list(rows)
        if policy is not None:
            self._policy = policy
        self.endResetModel()

    def row_at(self, row: int):  # type: ignore[no-untyped-def]
        return self._rows[row]

    def row_of_entry(self, entry_id: int) -> int:
        for i, r in enumerate(self._rows):
            if r.id == entry_id:
                return i
        return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(AuditColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(AUDIT_HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return AUDIT_HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section == AuditColumn.AT:
            return "This PC's local time (the log stores UTC)."
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = AuditColumn(index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and col is AuditColumn.ID:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if col is AuditColumn.ID:
            return str(r.id)
        if col is AuditColumn.AT:
            return f"{r.at} (UTC)" if role == Qt.ItemDataRole.ToolTipRole else local_time(r.at)
        if col is AuditColumn.USER:
            return r.actor
        if col is AuditColumn.ACTION:
            return r.action if role == Qt.ItemDataRole.ToolTipRole else action_title(r.action)
        if col is AuditColumn.OBJECT:
            return object_text(r.object_type, r.object_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            return r.detail if r.detail != "{}" else None
        return describe_detail(r.detail, self._policy)


class AuditViewer(QWidget):
    """The audit log, filtered; the chain check; the "who accessed this student" report."""

    LIMIT = 2000

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self._updating = False
        self.broken_entry: int | None = None
        self._accounts: dict[str, Any] = {}
        layout = QVBoxLayout(self)

        filters_box = QGroupBox("Show entries")
        grid = QGridLayout(filters_box)
        grid.setHorizontalSpacing(10)
        self.user = QComboBox()
        self.user.setEditable(True)
        self.user.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.user_edit = self.user.lineEdit()
        assert self.user_edit is not None  # an editable combo box has one
        self.user_edit.setPlaceholderText("anyone")
        self.user.setAccessibleName("Filter by user")
        self.user.setMinimumContentsLength(14)
        self.student = QLineEdit()
        self.student.setPlaceholderText("any student")
        self.student.setAccessibleName("Filter by student key")
        self.student.setMaxLength(10)
        self.action = QComboBox()
        self.action.setAccessibleName("Filter by action")
        for title, prefix in ACTION_FILTERS:
            self.action.addItem(title, prefix)
        # long action names must not widen the window past a 1024-pixel screen
        self.action.setMinimumWidth(140)
        self.since = QDateEdit()
        self.until = QDateEdit()
        for d, name in ((self.since, "From date"), (self.until, "To date")):
            d.setDisplayFormat("dd/MM/yyyy")
            d.setCalendarPopup(True)
            d.setAccessibleName(name)
            d.setMinimumDate(QDate(2000, 1, 1))
            d.setMaximumDate(QDate(2100, 12, 31))
        self.since.setSpecialValueText("any date")  # shown at the minimum: no lower bound
        self.apply_button = QPushButton("&Show")
        self.reset_button = QPushButton("Clea&r filters")
        labels = {}
        for text, w in (("&User:", self.user), ("S&tudent key:", self.student), ("&Action:", self.action),
                        ("Fro&m:", self.since), ("T&o:", self.until)):
            label = QLabel(text)
            label.setBuddy(w)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            labels[w] = label
        grid.addWidget(labels[self.user], 0, 0)
        grid.addWidget(self.user, 0, 1)
        grid.addWidget(labels[self.student], 0, 2)
        grid.addWidget(self.student, 0, 3)
        grid.addWidget(labels[self.action], 0, 4)
        grid.addWidget(self.action, 0, 5)
        grid.addWidget(labels[self.since], 1, 0)
        grid.addWidget(self.since, 1, 1)
        grid.addWidget(labels[self.until], 1, 2)
        grid.addWidget(self.until, 1, 3)
        buttons_row = QHBoxLayout()
        buttons_row.addStretch(1)
        buttons_row.addWidget(self.apply_button)
        buttons_row.addWidget(self.reset_button)
        grid.addLayout(buttons_row, 1, 4, 1, 2)
        for col, stretch in ((1, 2), (3, 2), (5, 3)):
            grid.setColumnStretch(col, stretch)
        layout.addWidget(filters_box)

        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.setAccessibleName("Audit log")
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        # Fixed widths from the font: resizing to contents over 2,000 rows is slow.
        fm = self.fontMetrics()
        for col, sample in (
            (AuditColumn.ID, "Entry"),
            (AuditColumn.AT, "00/00/0000 00:00:00"),
            (AuditColumn.USER, "username"),
            (AuditColumn.ACTION, "Viewed the student's record"),
            (AuditColumn.OBJECT, "Student ABC0000"),
        ):
            header.resizeSection(col, fm.horizontalAdvance(sample) + 16)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        bottom = QHBoxLayout()
        self.verify_button = QPushButton("&Check the log is intact")
        bottom.addWidget(self.verify_button)
        bottom.addSpacing(18)
        report_label = QLabel("Who accessed the student in the Student key box:")
        report_label.setWordWrap(True)
        bottom.addWidget(report_label)
        self.report_button = QPushButton("&Print report…")
        self.pdf_button = QPushButton("Save report as P&DF…")
        self.excel_button = QPushButton("Save to E&xcel…")
        for b in (self.report_button, self.pdf_button):
            bottom.addWidget(b)
        bottom.addStretch(1)
        bottom.addWidget(self.excel_button)
        layout.addLayout(bottom)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Audit log message")
        layout.addWidget(self.status)

        self.apply_button.clicked.connect(self.refresh)
        self.reset_button.clicked.connect(self.clear_filters)
        self.student.returnPressed.connect(self.refresh)
        self.user_edit.returnPressed.connect(self.refresh)
        self.user.activated.connect(lambda _i: self.refresh())
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        self.since.dateChanged.connect(lambda _d: self.refresh())
        self.until.dateChanged.connect(lambda _d: self.refresh())
        self.student.textChanged.connect(self._update_buttons)
        self.verify_button.clicked.connect(self.verify)
        self.report_button.clicked.connect(self.print_student_report)
        self.pdf_button.clicked.connect(self.save_student_report_pdf)
        self.excel_button.clicked.connect(self.save_excel)
        self._load_accounts()
        self._updating = True
        self.clear_filters()
        self._updating = False
        self.refresh()

    # -- filters -----------------------------------------------------------------------------
    def _load_accounts(self) -> None:
        """The user filter lists the accounts (the custodian's view); others type a name."""
        from mapping_tool.services import accounts

        if not self.session.is_custodian:
            return
        try:
            self._accounts = {a.username: a for a in accounts.list_users(self.session)}
        except KnownError:
            self._accounts = {}
        self.user.addItem("")
        for name in sorted(self._accounts):
            self.user.addItem(name)

    def clear_filters(self) -> None:
        updating, self._updating = getattr(self, "_updating", False), True
        self.user.setCurrentIndex(0 if self.user.count() else -1)
        self.user.setEditText("")
        self.student.clear()
        self.action.setCurrentIndex(0)
        self.since.setDate(self.since.minimumDate())
        self.until.setDate(QDate.currentDate())
        self._updating = updating
        if not updating:
            self.refresh()
        self._update_buttons()

    def set_filters(self, *, user: str | None = None, student: str | None = None, action: str | None = None,
                    since: QDate | None = None, until: QDate | None = None) -> None:
        """Set several filters, then show the entries once."""
        self._updating = True
        try:
            if user is not None:
                self.user.setEditText(user)
            if student is not None:
                self.student.setText(student)
            if action is not None:
                i = self.action.findData(action)
                self.action.setCurrentIndex(max(i, 0))
            if since is not None:
                self.since.setDate(since)
            if until is not None:
                self.until.setDate(until)
        finally:
            self._updating = False
        self.refresh()

    def _filters(self) -> dict[str, Any]:
        since = None if self.since.date() == self.since.minimumDate() else _utc_bound(self.since.date(), end=False)
        # "To" today (or later) means up to now: entries keep appearing while the page stays open.
        until = None if self.until.date() >= QDate.currentDate() else _utc_bound(self.until.date(), end=True)
        return {
            "actor": self.user.currentText().strip() or None,
            "student": self.student.text().strip() or None,
            "action": self.action.currentData() or None,
            "since": since,
            "until": until,
        }

    def _update_buttons(self) -> None:
        has_key = bool(self.student.text().strip())
        for b in (self.report_button, self.pdf_button):
            b.setEnabled(has_key)
        self.excel_button.setToolTip(
            "Who accessed this student, as an Excel workbook." if has_key else "The whole audit log, as an Excel workbook."
        )

    def _say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.status.setText(text)

    def refresh(self) -> None:
        from mapping_tool.services import audit, students

        if getattr(self, "_updating", False):
            return
        try:
            rows = audit.entries(self.session, limit=self.LIMIT, **self._filters())
            policy = students.effective_policy(self.session)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        self.model.set_rows(rows, policy)
        more = " (the newest 2,000; narrow the filters to see older ones)" if len(rows) >= self.LIMIT else ""
        self._say(f"{len(rows):,} entr{'y' if len(rows) == 1 else 'ies'} shown, newest first{more}.")
        if self.broken_entry is not None:
            self._select_entry(self.broken_entry)

    def _select_entry(self, entry_id: int) -> None:
        row = self.model.row_of_entry(entry_id)
        if row >= 0:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)

    # -- the chain -----------------------------------------------------------------------------
    def verify(self) -> None:
        from mapping_tool.services import audit

        try:
            result = audit.verify(self.session)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        if result.intact:
            self.broken_entry = None
            self._say(
                f"The audit log is intact: all {result.entries:,} entries are chained, unchanged, and end where "
                "the record kept outside the database says.",
                ok=True,
            )
            return
        self.broken_entry = result.entry_id
        if result.entry_id is not None:
            self._select_entry(result.entry_id)
        self._say(
            f"The audit log is NOT intact: {result.problem}. Someone may have altered the database. Tell the "
            "principal, keep this PC as it is, and do not restore a backup over it.",
            error=True,
        )

    # -- the access report -----------------------------------------------------------------------
    def _student_key(self) -> str:
        return self.student.text().strip().upper()

    def _student_name(self, key: str) -> str:
        from mapping_tool.services import students

        try:
            table = students.list_students(self.session, search=key, fields=("student_key", "surname", "first_name"), audit=False)
        except KnownError:
            return ""
        if "surname" not in table.columns:
            return ""
        for row in table.rows:
            record = dict(zip(table.columns, row, strict=True))
            if record["student_key"] == key:
                return f"{record.get('surname') or ''}, {record.get('first_name') or ''}".strip(", ")
        return ""

    def _user_text(self, username: str) -> str:
        a = self._accounts.get(username)
        if a is None:
            return _esc(username)
        return f"{_esc(a.display_name or username)}<br/><small>{_esc(username)}, {_esc(a.role.title)}</small>"

    def student_report(self, key: str) -> tuple[str, int]:
        """(HTML, number of entries) of "who accessed this record, when and what they did"."""
        from mapping_tool.services import audit, students

        key = key.strip().upper()
        rows = list(reversed(audit.entries(self.session, student=key)))
        policy = students.effective_policy(self.session)
        check = audit.verify(self.session)
        name = self._student_name(key)
        school = self.session.store.school
        tz = datetime.now().astimezone().tzname() or "local time"
        body = "".join(
            f"<tr><td>{_esc(local_time(r.at, '%d/%m/%Y'))}<br/>{_esc(local_time(r.at, '%H:%M:%S'))}</td>"
            f"<td>{self._user_text(r.actor)}</td>"
            f"<td>{_esc(action_title(r.action))}</td>"
            f"<td>{_esc(describe_detail(r.detail, policy))}</td></tr>"
            for r in rows
        )
        if not rows:
            body = "<tr><td colspan='4'>No entry in the audit log concerns this student.</td></tr>"
        span = (
            f"from {local_time(rows[0].at, '%d/%m/%Y')} to {local_time(rows[-1].at, '%d/%m/%Y')}" if rows else ""
        )
        integrity = (
            f"The audit log was checked when this report was made: intact ({check.entries:,} entries)."
            if check.intact
            else f"<b>The audit log was checked when this report was made and is NOT intact: {_esc(check.problem)}.</b>"
        )
        me = self.session
        student_line = f"{_esc(name)} ({_esc(key)})" if name else _esc(key)
        doc = (
            "<h2>Who accessed this student's record</h2>"
            f"<p><b>Student:</b> {student_line}<br/>"
            f"<b>School:</b> {_esc(school.school_name if school else '')} "
            f"({_esc(school.school_number if school else '')})<br/>"
            f"<b>Made by:</b> {_esc(me.display_name or me.username)} ({_esc(me.role.title.lower())}) on "
            f"{datetime.now().strftime('%d/%m/%Y at %H:%M')}</p>"
            f"<p>Every view, change, export and print of this record in the audit log: {len(rows)} "
            f"entr{'y' if len(rows) == 1 else 'ies'} {span}. Times are this PC's local time ({_esc(tz)}). "
            f"{integrity}</p>"
            "<table width='100%' border='1' cellspacing='0' cellpadding='4' style='border-collapse:collapse; border-color:#888'>"
            "<thead><tr><th width='17%'>When</th><th width='22%'>Who</th><th width='20%'>What they did</th>"
            "<th>Details</th></tr></thead>"
            f"<tbody>{body}</tbody></table>"
            "<p><small>Made with the Student Mapping Tool from its tamper-evident audit log, for an access request "
            "or an investigation. Keep it as confidential as the record itself.</small></p>"
        )
        return doc, len(rows)

    def student_report_html(self, key: str) -> str:
        return self.student_report(key)[0]

    def print_student_report(self) -> None:
        key = self._student_key()
        if not key:
            self._say("Type the student's key in the Student key box first.", error=True)
            return
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.ui.printing import print_html

        try:
            document_html, count = self.student_report(key)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName("Access report for one student")  # the print queue and window titles name no student
        preview = QPrintPreviewDialog(printer, self)
        preview.setWindowTitle("Access report for one student: print preview")
        preview.paintRequested.connect(lambda p: print_html(document_html, p))
        if preview.exec():
            self._record_print(key, {"output": "printer", "entries": count})
            self._say(f"The access report for {key} was sent to the printer; the print is recorded in the audit log.")
        preview.deleteLater()

    def save_student_report_pdf(self) -> None:
        key = self._student_key()
        if not key:
            self._say("Type the student's key in the Student key box first.", error=True)
            return
        from mapping_tool.ui.printing import html_to_pdf
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(self, "Save the access report as PDF", f"access-{key}.pdf", "PDF (*.pdf)", (".pdf",))
        if target is None:
            return
        path = str(target.path)
        try:
            document_html, count = self.student_report(key)
            html_to_pdf(
                document_html, target.path, store_folder=self.session.store.files.folder, replace=target.replace,
                title=f"Who accessed {key}",
            )
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        except OSError as exc:
            self._say(f"The PDF could not be written: {exc.strerror or exc}.", error=True)
            return
        self._record_print(key, {"output": "pdf", "path": path, "entries": count})
        self._say(f"The access report for {key} was saved to {path}; this is recorded in the audit log.")

    def _record_print(self, key: str, detail: dict[str, Any]) -> None:
        from mapping_tool.services import audit

        audit.record_print(self.session, "audit-report", object_type="student", object_id=key, detail=detail)
        self.refresh()

    def save_excel(self) -> None:
        from mapping_tool.services import audit

        key = self._student_key() or None
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(
            self, "Save to Excel", f"access-{key}.xlsx" if key else "audit-log.xlsx", "Excel (*.xlsx);;CSV (*.csv)",
            (".xlsx", ".csv"),
        )
        if target is None:
            return
        path = str(target.path)
        try:
            count = audit.export_entries(self.session, target.path, replace=target.replace, **self._filters())
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        self.refresh()  # the export's own entry
        what = f"who accessed {key}" if key else "the audit log as filtered"
        self._say(f"Saved {what} ({count:,} entries) to {path}; the export is recorded in the audit log.")


def _utc_bound(day: QDate, *, end: bool) -> str:
    """The start (or last millisecond) of a local calendar day, as stored UTC text."""
    local = datetime(day.year(), day.month(), day.day())
    if end:
        local += timedelta(days=1)
    moment = local.astimezone()  # a naive time is read as this PC's local time
    if end:
        moment -= timedelta(milliseconds=1)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23]
