"""The audit log reads as sentences: actions in words (also those added later), details without
codes, empty parts or ISO dates."""

from __future__ import annotations

import json

from mapping_tool.ui.pages.governance import ACTION_TITLES, action_title, describe_detail


def test_every_action_the_tool_records_has_words() -> None:
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "mapping_tool"
    recorded: set[str] = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        # The action is the first quoted code in the call, never a keyword's value such as
        # object_type="disposal-run"; an action passed as a module constant is looked up.
        recorded |= set(re.findall(r'audit\([^)]*?(?<!=)"([a-z]+(?:[.-][a-z-]+)+)"', text, flags=re.S))
        constants = dict(re.findall(r'^([A-Z_]+) = "([a-z]+\.[a-z-]+)"$', text, flags=re.M))
        recorded |= {constants[n] for n in re.findall(r'audit\(\w+, \w+, ([A-Z_]+),', text) if n in constants}
        recorded |= set(re.findall(r'_audit\("([a-z]+\.[a-z-]+)"', text))
        recorded |= set(re.findall(r'_file_done\([^,]+, "([a-z]+\.[a-z-]+)"', text))
    assert {"print.students", "export.students-view", "students.listed", "filenotes.disposed"} <= recorded
    assert "disposal-run" not in recorded
    missing = sorted(a for a in recorded if a not in ACTION_TITLES)
    assert missing == []


def test_unknown_actions_still_read_as_words() -> None:
    assert action_title("referral.printed") == "Referral: printed"
    assert "." not in action_title("intervention.plan-added")


def test_details_have_no_codes_empty_parts_or_iso_dates() -> None:
    text = describe_detail(json.dumps({"home_groups": [], "role": "principal", "year_levels": [], "display_name": "Pat"}))
    assert text == "role: Principal class; display name: Pat"
    printed = describe_detail(json.dumps({"to": "pdf", "filter": "current students; year 09", "rows": 12}))
    assert "as a PDF" in printed and "showing current students; year 09" in printed and "pdf" not in printed.replace("PDF", "")
    dated = describe_detail(json.dumps({"extract_date": "2026-09-18", "at": "2026-09-18T10:15:00"}))
    assert "18/09/2026" in dated and "2026-09-18" not in dated and "18/09/2026 10:15" in dated
