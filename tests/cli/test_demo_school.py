"""The demo school looks like a school that has used the tool for a term: programmes with
participants whose evaluation has figures, and an agency to refer to."""

from __future__ import annotations

from pathlib import Path

from mapping_tool.demo import create_demo_store
from mapping_tool.services import auth, interventions, referrals


def test_the_demo_school_has_programmes_participants_and_an_agency(tmp_path: Path) -> None:
    demo = create_demo_store(tmp_path / "store", students=120, say=lambda _text: None)
    custodian = next(a for a in demo.accounts if a.username == "custodian")
    user = auth.sign_in(demo.folder, "custodian", custodian.password)
    try:
        programmes = {p.name: p for p in interventions.list_programmes(user)}
        assert len(programmes) >= 10
        mapped = interventions.list_mappings(user, programme="Attendance mentoring")
        assert mapped, "flagged students are in the attendance programme"
        evaluation = {e.intervention: e for e in interventions.evaluate(user)}
        assert evaluation["Attendance mentoring"].measured > 0
        assert [a.name for a in referrals.list_agencies(user)] == ["Riverbend Youth Services (demo)"]
    finally:
        auth.sign_out(user)
