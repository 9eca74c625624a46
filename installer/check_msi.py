"""Check the built MSI's tables with msiinfo (msitools): what a technician relies on.

    python3 installer/check_msi.py FILE.msi VERSION

Prints one line per check and exits 1 when any fails. Standard library only.
"""

from __future__ import annotations

import subprocess
import sys

UPGRADE_CODE = "{6C1C9E0B-3B7E-4C53-9F0F-5B1E8A6D2C41}"  # installer/README.md: never change it


def table(msi: str, name: str) -> list[list[str]]:
    out = subprocess.run(["msiinfo", "export", msi, name], check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines()[3:]]  # after the column names, types and key row


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    msi, version = argv
    props = {row[0]: row[1] for row in table(msi, "Property") if len(row) >= 2}
    dirs = {row[0]: (row[1], row[2]) for row in table(msi, "Directory") if len(row) >= 3}
    files = {row[0]: row for row in table(msi, "File")}
    actions = {row[0]: row for row in table(msi, "CustomAction")}
    sequence = {row[0]: row for row in table(msi, "InstallExecuteSequence")}
    registry = {(row[2], row[3]): row[4] for row in table(msi, "Registry") if len(row) >= 5}
    shortcuts = {row[0]: row for row in table(msi, "Shortcut")}
    upgrade = table(msi, "Upgrade")
    conditions = [row[0] for row in table(msi, "LaunchCondition")]
    removals = table(msi, "RemoveFile")
    create = {row[0] for row in table(msi, "CreateFolder")}
    suminfo = subprocess.run(["msiinfo", "suminfo", msi], check=True, capture_output=True, text=True).stdout

    def parent_chain(d: str) -> list[str]:
        chain = []
        while d in dirs and dirs[d][0]:
            chain.append(d)
            d = dirs[d][0]
        return chain + [d]

    key = "SOFTWARE\\VicSchools\\StudentMappingTool"
    checks = [
        ("per-machine (ALLUSERS=1)", props.get("ALLUSERS") == "1"),
        ("the fixed UpgradeCode", props.get("UpgradeCode") == UPGRADE_CODE),
        (f"ProductVersion {version}", props.get("ProductVersion") == version),
        ("a new ProductCode", props.get("ProductCode", "").startswith("{")),
        ("64-bit package", "x64;" in suminfo),
        ("major upgrade of older versions", any(r[0] == UPGRADE_CODE and r[2] == version for r in upgrade)),
        ("a newer installed version is detected as a downgrade",
         any(r[0] == UPGRADE_CODE and r[1] == version and r[-1] == "WIX_DOWNGRADE_DETECTED" for r in upgrade)),
        ("downgrade refused", "NOT WIX_DOWNGRADE_DETECTED" in conditions),
        ("RemoveExistingProducts scheduled", "RemoveExistingProducts" in sequence),
        ("into Program Files", parent_chain("INSTALLFOLDER")[1:] == ["ProgramFiles64Folder", "TARGETDIR"]),
        ("both programs installed", {"MappingToolExe", "MappingToolGuiExe"} <= files.keys()),
        ("technician's guide and changelog installed", {"TechnicianGuide", "Changelog"} <= files.keys()),
        ("Start-menu shortcut to the window", shortcuts.get("AppShortcut", [""] * 5)[4] == "[#MappingToolGuiExe]"
         and shortcuts["AppShortcut"][1] == "AppMenuFolder"
         and parent_chain("AppMenuFolder")[1] == "ProgramMenuFolder"),
        ("store folder in ProgramData",
         parent_chain("STOREFOLDER")[1:] == ["ProductDataFolder", "VendorDataFolder", "CommonAppDataFolder", "TARGETDIR"]),
        ("store folder created", "STOREFOLDER" in create),
        ("users may write the store folder (icacls, deferred, as SYSTEM)",
         "GrantUsersStoreFolder" in actions and "/grant *S-1-5-32-545:(OI)(CI)M" in actions["GrantUsersStoreFolder"][3]
         and int(actions["GrantUsersStoreFolder"][1]) & 0x0C00 == 0x0C00
         and "GrantUsersStoreFolder" in sequence),
        ("store folder recorded for the program", registry.get((key, "StoreFolder")) == "[STOREFOLDER]"),
        ("version recorded for the detection rule", registry.get((key, "Version")) == version),
        ("uninstall removes nothing in the store folder",
         not any(r[3] in ("STOREFOLDER", "ProductDataFolder", "VendorDataFolder") for r in removals if len(r) > 3)),
    ]
    failed = 0
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
        failed += not ok
    print(f"msi check: {'all' if not failed else failed} of {len(checks)} checks {'hold' if not failed else 'failed'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
