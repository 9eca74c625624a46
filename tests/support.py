"""Constants and helpers shared by tests (accounts of the template store)."""

from __future__ import annotations

from pathlib import Path

CUSTODIAN = "custodian"
CUSTODIAN_PASSWORD = "tangerine-orbit-lantern-57"
RECOVERY = "velvet harbour quietly juggles seven comets"
PRINCIPAL = "principal"
PRINCIPAL_PASSWORD = "copper-meadow-violin-31"
WELFARE = "welfare"
WELFARE_PASSWORD = "saffron-glacier-piano-64"
HGT = "hgteacher"
HGT_PASSWORD = "marble-canyon-whistle-88"
YLC = "coordinator"
YLC_PASSWORD = "lilac-thunder-kettle-29"
SCHOOL_NUMBER = "8123"



def sign_in(store_dir: Path, username: str, password: str):  # type: ignore[no-untyped-def]
    from mapping_tool.services import auth

    return auth.sign_in(store_dir, username, password)


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder`` (to prove nothing changed). The empty OS lock file
    that a window or restore leaves behind is not store content, so it is skipped."""
    import hashlib

    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "smt.lock":
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out




def imported_school(template_store: Path, root: Path, *, students: int, seed: int) -> Path:
    """A copy of the template store with a generated demo extract (in ``root/eduhub``) imported."""
    import shutil
    from datetime import date

    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports

    folder = root / "store"
    shutil.copytree(template_store, folder)
    extract = root / "eduhub"
    generate_demo_extract(extract, students=students, extract_date=date(2026, 9, 18), years=1, seed=seed)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(user, extract)
    finally:
        auth.sign_out(user)
    return folder
