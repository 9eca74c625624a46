"""The Reports page: the cohort at a glance (the school or one year level) — how many students
have each risk factor and each review tier, with charts, and the share in the priority tier
beside the usual capacity rule of thumb — and the de-identified summary for regional and
central office.

The counts come from ``flags.cohort`` (the students the user may see, latest extract); the
summary from ``deidentified.export_summary`` (small counts suppressed there). Both run off the
UI thread.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.pages.students import FLAG_NAMES, FLAG_TITLES

logger = logging.getLogger(__name__)

# Mirrors deidentified.build_summary's role check (the service enforces it): every school role,
# each with its own row scope.
SUMMARY_ROLES = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER)
# The usual capacity rule of thumb for a tiered model: about 15 % need monitoring, 5 % priority.
RULE_OF_THUMB = {"monitor": 15.0, "priority": 5.0}
TIER_TITLES = {"none": "None", "monitor": "Monitor", "priority": "Priority"}  # as on every page


def override_text(cohort: Any) -> str:
    """Tiers are counted as staff set them; where overrides change a count, the rules' own
    figures are given beside them."""
    computed = getattr(cohort, "computed_tier_counts", None) or {}
    if not computed or computed == cohort.tier_counts:
        return "Tiers are as the rules give them: no staff override changes these counts."
    parts = [
        f"{TIER_TITLES[t]} {cohort.tier_counts.get(t, 0):,} (the rules alone: {computed.get(t, 0):,})"
        for t in ("priority", "monitor", "none") if cohort.tier_counts.get(t, 0) != computed.get(t, 0)
    ]
    return "Tiers include the overrides staff recorded with a reason: " + "; ".join(parts) + "."


def capacity_text(cohort: Any) -> str:
    """The priority and monitor shares against the rule of thumb, in words a welfare team uses."""
    n = cohort.students
    if not n:
        return "There are no students in the latest extract to count."
    parts = []
    for tier in ("priority", "monitor"):
        count = cohort.tier_counts.get(tier, 0)
        share = cohort.share(count)
        ref = RULE_OF_THUMB[tier]
        expected = round(n * ref / 100)
        if share > ref * 1.2:
            verdict = "above"
        elif share < ref * 0.8:
            verdict = "below"
        else:
            verdict = "about at"
        parts.append(
            f"<b>{TIER_TITLES[tier]}: {count:,} students ({share:.1f} %)</b> — {verdict} the usual rule of thumb of "
            f"about {ref:g} % (about {expected:,} of {n:,})."
        )
    return "<br>".join(parts)


class CohortPage(QWidget):
    loaded = Signal()
    exported = Signal(object)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.cohort: Any = None
        self.year_level: str | None = None
        self.job: worker.Job | None = None
        self.export_job: worker.Job | None = None
        self.charts: dict[str, Any] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        top = QHBoxLayout()
        top.addWidget(QLabel("<h2>Reports: the cohort</h2>"))
        top.addStretch(1)
        self.summary_button = QPushButton("Save the &de-identified summary…")
        self.summary_button.setToolTip(
            "Counts by year level of the students you may see, for regional and central office: no names, keys, "
            "birth dates or home groups; "
            "counts under 5 suppressed"
        )
        if session.role not in SUMMARY_ROLES:  # never shown before it has a parent
            self.summary_button.hide()
        self.summary_button.clicked.connect(self.save_summary)
        top.addWidget(self.summary_button)
        outer.addLayout(top)
        intro = QLabel(
            "How many of the students you may see have each risk factor and each review tier, from the latest "
            "extract. Use it to plan the welfare team's capacity."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)
        row = QHBoxLayout()
        self.year = QComboBox()
        self.year.setAccessibleName("Cohort")
        self.year.addItem("Whole school" if session.role in (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE) else "All my students", None)
        label = QLabel("&Cohort:")
        label.setBuddy(self.year)
        row.addWidget(label)
        row.addWidget(self.year)
        row.addStretch(1)
        outer.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.message)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(self.scroll, 1)
        self.body = QWidget()
        self.scroll.setWidget(self.body)
        self.total_label = QLabel()
        self.capacity = QLabel()
        self.year.currentIndexChanged.connect(lambda _i: self.load(self.year.currentData()))
        self._years_loaded = False
        self.load(None)

    # -- loading ------------------------------------------------------------------------------
    def set_year_level(self, year_level: str | None) -> None:
        i = self.year.findData(year_level) if year_level is not None else 0
        if i >= 0:
            self.year.setCurrentIndex(i)

    def store_changed(self) -> None:
        """A refresh, rule change or override elsewhere: count again (the year list too)."""
        self._years_loaded = False
        self.year.blockSignals(True)
        while self.year.count() > 1:
            self.year.removeItem(1)
        self.year.blockSignals(False)
        self.load(self.year.currentData())

    def load(self, year_level: str | None) -> None:
        from mapping_tool.services import flags, students

        session = self.session
        want_years = not self._years_loaded

        def work(progress: worker.Progress) -> object:
            years: list[str] = []
            if want_years:
                table = students.list_students(session, fields=("year_level",), audit=False)
                if "year_level" in table.columns:
                    years = sorted({y for y in table.column("year_level") if y})
            return flags.cohort(session, year_level=year_level), years

        self.message.setText("Counting…")
        job = worker.runner.start(work, self)
        self.job = job
        job.finished.connect(lambda result, job=job, y=year_level: self._arrived(result, job, y))
        job.failed.connect(self._failed)

    def _arrived(self, result: object, job: worker.Job, year_level: str | None) -> None:
        if job is not self.job:
            return
        cohort, years = result  # type: ignore[misc]
        if years:
            self.year.blockSignals(True)
            for y in years:
                self.year.addItem(f"Year {int(y) if str(y).isdigit() else y}", y)
            self.year.blockSignals(False)
            self._years_loaded = True
        self.cohort = cohort
        self.year_level = year_level
        self.message.setText("")
        self._render(cohort, year_level)
        self.loaded.emit()

    def _failed(self, exc: object) -> None:
        if isinstance(exc, KnownError):
            self.message.setText(exc.message)
        else:
            self.message.setText("")
            show_error(self, exc)  # type: ignore[arg-type]

    # -- showing ------------------------------------------------------------------------------
    def flag_rows(self, cohort: Any) -> list[tuple[str, int]]:
        return [(FLAG_TITLES[f], cohort.flag_counts[f]) for f in (*FLAG_NAMES, "relationships_concern") if f in cohort.flag_counts]

    def tier_rows(self, cohort: Any) -> list[tuple[str, int]]:
        return [(TIER_TITLES[t], cohort.tier_counts.get(t, 0)) for t in ("priority", "monitor", "none")]

    def _render(self, cohort: Any, year_level: str | None) -> None:
        from mapping_tool.ui.charts import bar_chart

        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(10)
        who = f"Year {int(year_level) if year_level.isdigit() else year_level}" if year_level else self.year.itemText(0).lower()
        self.total_label = QLabel(
            f"<b>{cohort.students:,} current students</b> ({who}) in the latest extract's population "
            "(the Students page counts the same students)."
        )
        self.total_label.setWordWrap(True)
        layout.addWidget(self.total_label)
        self.override_note = QLabel(override_text(cohort))
        self.override_note.setWordWrap(True)
        self.override_note.setVisible(bool(self.override_note.text()))
        layout.addWidget(self.override_note)
        self.capacity = QLabel(capacity_text(cohort))
        self.capacity.setWordWrap(True)
        self.capacity.setFrameShape(QFrame.Shape.StyledPanel)
        self.capacity.setContentsMargins(10, 8, 10, 8)
        self.capacity.setAccessibleName("Capacity against the rule of thumb")
        layout.addWidget(self.capacity)
        self.charts = {}
        if cohort.students:
            charts = QHBoxLayout()
            flags_rows = self.flag_rows(cohort)
            tier_rows = self.tier_rows(cohort)
            if flags_rows:
                chart = bar_chart("Students with each risk factor", [r[0] for r in flags_rows], [r[1] for r in flags_rows], cohort.students)
                self.charts["flags"] = chart
                charts.addWidget(chart, 3)
            if tier_rows:
                chart = bar_chart(
                    "Students in each review tier", [r[0] for r in tier_rows], [r[1] for r in tier_rows], cohort.students,
                    references={TIER_TITLES[t]: v for t, v in RULE_OF_THUMB.items()},
                )
                self.charts["tiers"] = chart
                # at the top of its column, as wide as the column allows (an aligned widget keeps
                # its preferred width and ran off a 1024-pixel screen)
                column = QVBoxLayout()
                column.addWidget(chart)
                column.addStretch(1)
                charts.addLayout(column, 2)
            layout.addLayout(charts)
            self.figures = QLabel(self._figures_html(cohort, flags_rows, tier_rows))
            self.figures.setTextFormat(Qt.TextFormat.RichText)
            self.figures.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.figures.setAccessibleName("The figures")
            layout.addWidget(self.figures)
        layout.addStretch(1)
        self.scroll.setWidget(self.body)  # deletes the previous one

    @staticmethod
    def _figures_html(cohort: Any, flag_rows: list[tuple[str, int]], tier_rows: list[tuple[str, int]]) -> str:
        def rows(items: list[tuple[str, int]]) -> str:
            return "".join(
                f"<tr><td>{name}</td><td align='right'>{count:,}</td><td align='right'>{cohort.share(count):.1f} %</td></tr>"
                for name, count in items
            )

        head = "<tr><th align='left'>{}</th><th align='right'>Students</th><th align='right'>Share</th></tr>"
        return (
            "<table cellspacing='0' cellpadding='3'><tr><td valign='top'>"
            f"<table cellspacing='0' cellpadding='3'>{head.format('Risk factor')}{rows(flag_rows)}</table></td>"
            "<td width='40'></td><td valign='top'>"
            f"<table cellspacing='0' cellpadding='3'>{head.format('Review tier')}{rows(tier_rows)}</table>"
            "</td></tr></table>"
        )

    # -- the de-identified summary -------------------------------------------------------------
    def save_summary(self) -> None:
        from mapping_tool.services import deidentified
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(
            self, "Save the de-identified summary", f"deidentified-summary-{date.today():%d-%m-%Y}.xlsx",
            "Excel (*.xlsx);;CSV (*.csv)", (".xlsx", ".csv"),
        )
        if target is None:
            return
        path, replace = target.path, target.replace
        session = self.session
        self.summary_button.setEnabled(False)
        self.message.setText("Saving the summary…")

        def work(progress: worker.Progress) -> object:
            deidentified.export_summary(session, path, fmt=path.suffix.lstrip(".").lower(), replace=replace)
            return path

        self.export_job = worker.runner.start(work, self)
        self.export_job.finished.connect(self._saved)
        self.export_job.failed.connect(self._save_failed)

    def _saved(self, path: object) -> None:
        self.summary_button.setEnabled(True)
        self.message.setText(
            f"Saved the de-identified summary to {path}. Counts under 5 are shown as “<5”; the export is recorded in the audit log."
        )
        self.exported.emit(path)

    def _save_failed(self, exc: object) -> None:
        self.summary_button.setEnabled(True)
        self._failed(exc)
