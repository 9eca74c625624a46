"""Write the WiX fragment that lists every file of the one-folder build (``AppFiles``).

    python installer/make_wxs.py DIST_FOLDER OUT.wxs

File sources are written relative to the current folder (wixl wants relative paths): run wixl
from the same folder.

One component per file, its GUID derived from the file's path inside the install folder (stable
across versions, as Windows Installer's component rules want). The two programs get fixed file
ids (``MappingToolExe``, ``MappingToolGuiExe``) for the shortcuts. Standard library only.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from pathlib import Path
from xml.sax.saxutils import quoteattr

NAMESPACE = uuid.UUID("6c1c9e0b-3b7e-4c53-9f0f-5b1e8a6d2c41")  # the product's UpgradeCode
FIXED_IDS = {"mapping-tool": "MappingToolExe", "mapping-tool-gui": "MappingToolGuiExe"}


def _id(prefix: str, rel: str) -> str:
    return prefix + hashlib.sha1(rel.encode("utf-8")).hexdigest()[:32]


def build(dist: Path) -> str:
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">',
        "  <Fragment>",
    ]
    components: list[str] = []
    found: set[str] = set()

    def walk(folder: Path, indent: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda p: (p.is_dir(), p.name.lower())):
            rel = entry.relative_to(dist).as_posix()
            if entry.is_dir():
                lines.append(f"{indent}<Directory Id={quoteattr(_id('d', rel))} Name={quoteattr(entry.name)}>")
                walk(entry, indent + "  ")
                lines.append(f"{indent}</Directory>")
                continue
            stem = entry.name.removesuffix(".exe")
            top_level = entry.parent == dist
            file_id = FIXED_IDS[stem] if top_level and stem in FIXED_IDS else _id("f", rel)
            if file_id in FIXED_IDS.values():
                found.add(file_id)
            comp_id = _id("c", rel)
            guid = str(uuid.uuid5(NAMESPACE, "file:" + rel.lower())).upper()
            components.append(comp_id)
            lines.append(f'{indent}<Component Id="{comp_id}" Guid="{guid}" Win64="yes">')
            lines.append(
                f'{indent}  <File Id="{file_id}" Name={quoteattr(entry.name)} '
                f'Source={quoteattr(os.path.relpath(entry))} KeyPath="yes"/>'
            )
            lines.append(f"{indent}</Component>")

    lines.append('    <DirectoryRef Id="INSTALLFOLDER">')
    walk(dist, "      ")
    lines.append("    </DirectoryRef>")
    lines.append('    <ComponentGroup Id="AppFiles">')
    lines += [f'      <ComponentRef Id="{c}"/>' for c in components]
    lines += ["    </ComponentGroup>", "  </Fragment>", "</Wix>", ""]
    missing = set(FIXED_IDS.values()) - found
    if missing:
        raise SystemExit(f"make_wxs: {dist} lacks the programs {sorted(missing)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dist, out = Path(argv[0]), Path(argv[1])
    out.write_text(build(dist), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
