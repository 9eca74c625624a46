"""Issue 11, item 7: the same extract imported twice at once is recorded once."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from importers.demo import generate_demo_extract
from mapping_tool.errors import KnownError
from mapping_tool.services import auth, imports
from mapping_tool.store import db
from mapping_tool.store.files import StoreFiles
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD


def test_two_imports_of_one_extract_at_once_make_one_snapshot(store_dir: Path, store_key: bytes, tmp_path: Path) -> None:
    extract = tmp_path / "eduhub"
    generate_demo_extract(extract, students=40, extract_date=date(2026, 9, 18), years=1, seed=5)
    sessions = [auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD) for _ in range(2)]
    try:
        # both have read and checked the files, and neither has seen a snapshot of them yet
        prepared = [imports.prepare_cases21(s, extract) for s in sessions]
        assert all(p.already_snapshot is None for p in prepared)
        start = threading.Barrier(2)
        outcomes: list[object] = []

        def run(i: int) -> None:
            start.wait(30)
            try:
                outcomes.append(imports.apply_import(sessions[i], prepared[i]))
            except KnownError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    finally:
        for s in sessions:
            auth.sign_out(s)
    done = [o for o in outcomes if isinstance(o, imports.ImportResult)]
    refused = [o for o in outcomes if isinstance(o, KnownError)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert isinstance(refused[0], imports.AlreadyImported)
    assert "imported by another import while this one ran" in refused[0].message
    conn = db.connect_raw(StoreFiles(store_dir).db, store_key)
    try:
        snapshots = conn.execute("SELECT content_hash, COUNT(*) FROM snapshot GROUP BY content_hash").fetchall()
        students = conn.execute("SELECT COUNT(*) FROM student").fetchone()[0]
    finally:
        conn.close()
    assert [n for _, n in snapshots] == [1]
    assert students == len(prepared[0].extract.students)
    # and a later import of the same files is the usual "already imported", not an error
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert imports.import_cases21(user, extract).unchanged
    finally:
        auth.sign_out(user)
