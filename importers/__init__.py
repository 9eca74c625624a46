"""importers domain package: pure Python and pandas (no Qt, no SQLAlchemy, no mapping_tool).

Public API: ``read_cases21`` (a CASES21 eduHub extract folder -> ``Cases21Extract``) and
``read_vass`` (a VASS results file -> ``VassExtract``); findings, errors and the whitelist.
"""

from importers.eduhub import Cases21Extract, read_cases21
from importers.errors import ExtractError, ImportCancelled, ValidationFailed
from importers.findings import Finding
from importers.progress import Progress
from importers.sources import SourceFile
from importers.vass import VassExtract, VassMapping, read_vass

__all__ = [
    "Cases21Extract",
    "ExtractError",
    "Finding",
    "ImportCancelled",
    "Progress",
    "SourceFile",
    "ValidationFailed",
    "VassExtract",
    "VassMapping",
    "read_cases21",
    "read_vass",
]
