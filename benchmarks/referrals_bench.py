"""Benchmark: producing a referral's PDF (the form, its information page and the file note, in
one transaction) and the Referrals page's data for a school with 500 referrals. Not a test.

    .venv/bin/python benchmarks/referrals_bench.py [--students 600] [--referrals 500] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-bench-logs-"))

PASSWORD = "tangerine-orbit-lantern-57"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--referrals", type=int, default=500)
    parser.add_argument("--keep", help="reuse/keep the store and extract here")
    args = parser.parse_args()
    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports, referrals, students
    from mapping_tool.services.context import utcnow
    from mapping_tool.store.models_referrals import Referral
    from mapping_tool.ui.forms import html_to_pdf

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-referrals-bench-"))
    store = work / "store"
    today = date.today()
    if not (store / "smt.db").exists():
        generate_demo_extract(work / "eduhub", students=args.students, years=1, extract_date=today)
        auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", PASSWORD,
                                                "velvet harbour quietly juggles seven comets"))
        user = auth.sign_in(store, "custodian", PASSWORD)
        imports.import_cases21(user, work / "eduhub")
        referrals.add_agency(user, "Youth Connect", email="intake@yc.org.au", phone="03 9000 0000", address="1 Main St",
                             postcode="3000", ise="yes", agreement_ref="MoU", agreement_until=today + timedelta(days=300),
                             agreement_categories="student_name,year_level,attendance_rate,literacy,numeracy,school_report,suspensions")
        keys = [r[0] for r in students.list_students(user, audit=False).rows]
        agency_id = referrals.list_agencies(user)[0].id
        with user.store.write() as session:  # the 500 referrals of a busy year, inserted directly
            now = utcnow()
            for i in range(args.referrals):
                session.add(Referral(student_key=keys[i % len(keys)], agency_id=agency_id, categories="student_name,year_level",
                                     purpose="Mentoring", basis="serious-threat", grounds="Safety", status="sent",
                                     requested_by="custodian", requested_at=now, authorised_by="custodian",
                                     authorised_at=now, status_at=now))
        auth.sign_out(user)
    user = auth.sign_in(store, "custodian", PASSWORD)
    try:
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            rows = referrals.list_referrals(user)
            times.append(time.perf_counter() - t0)
        print(f"Referrals page data ({len(rows)} referrals, policy + audit entry): median {statistics.median(times) * 1000:.0f} ms")
        from mapping_tool.ui.app import make_app
        from mapping_tool.ui.pages.referrals import ReferralsPage

        make_app()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            page = ReferralsPage(user)  # all four tabs: referrals, agencies, consents, file notes
            times.append(time.perf_counter() - t0)
            page.deleteLater()
        print(f"Referrals page built with its tables filled ({page.referral_model.rowCount()} referrals): "
              f"median {statistics.median(times) * 1000:.0f} ms")

        key = students.list_students(user, audit=False).rows[0][0]
        rid = referrals.create_referral(user, key, agency="Youth Connect", purpose="Mentoring", basis="serious-threat",
                                        grounds="Safety", categories="student_name,year_level,literacy,numeracy,school_report,suspensions")
        referrals.authorise_referral(user, rid, PASSWORD)
        html_to_pdf("<p>warm-up</p>", work / "warm.pdf")  # the Qt application and fonts, once per process
        times = []
        for i in range(5):
            out = work / f"referral-{i}.pdf"
            out.unlink(missing_ok=True)
            t0 = time.perf_counter()
            referrals.send_referral(user, rid, out, pdf_renderer=html_to_pdf)
            times.append(time.perf_counter() - t0)
        print(f"A referral's PDF with its file note (form + information page, one transaction): median {statistics.median(times) * 1000:.0f} ms")
        times = []
        for i in range(5):
            out = work / f"referral-{i}.docx"
            out.unlink(missing_ok=True)
            t0 = time.perf_counter()
            referrals.send_referral(user, rid, out, fmt="docx")
            times.append(time.perf_counter() - t0)
        print(f"The same as Word (python-docx): median {statistics.median(times) * 1000:.0f} ms")
    finally:
        auth.sign_out(user)


if __name__ == "__main__":
    main()
