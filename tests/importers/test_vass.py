"""VASS results files: delimiter, header detection, column mapping, matching to students."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from importers import ExtractError, VassMapping, read_vass

STUDENTS = pd.DataFrame(
    {
        "student_key": pd.Series(["ABC0001", "ABC0002", "ABC0003"], dtype="str"),
        "vcaa_number": pd.Series(["25123456A", "", "24000001B"], dtype="str"),
    }
)

HEADER = "VCAA Student Number|External Student Number|Family Name|First Name|Unit Code|Result|Year"
ROWS = [
    "25123456A|ABC0001|SMITH|Alice|EN011|S|2025",
    "99999999Z|ABC0002|O’BRIEN|Zoë|MA031|N|2025",  # VCAA number unknown: matched by school id
    "24000001B||NULL|NA|HH011|S|2024",
    "23000002C|XYZ0009|SECRETNAME|Hidden|EN011|S|2025",  # matches nobody
]


def _write(path: Path, lines: list[str], *, encoding: str = "cp1252", sep: str = "|") -> Path:
    text = "\r\n".join(line.replace("|", sep) for line in lines) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def test_pipe_file_with_header_and_no_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path / "results.txt", [HEADER, *ROWS])
    vx = read_vass(path, students=STUDENTS)

    assert vx.mapping.has_header is True
    assert vx.results.to_dict("records") == [
        {
            "student_key": "ABC0001",
            "vcaa_number": "25123456A",
            "unit_code": "EN011",
            "result": "S",
            "year": "2025",
        },
        {
            "student_key": "ABC0002",
            "vcaa_number": "99999999Z",
            "unit_code": "MA031",
            "result": "N",
            "year": "2025",
        },
        {
            "student_key": "ABC0003",
            "vcaa_number": "24000001B",
            "unit_code": "HH011",
            "result": "S",
            "year": "2024",
        },
    ]
    assert list(vx.results.columns) == ["student_key", "vcaa_number", "unit_code", "result", "year"]
    (unmatched,) = vx.findings
    assert (unmatched.level, unmatched.code, unmatched.row) == ("warning", "unmatched_student", 5)
    assert "23000002C" in unmatched.message and "XYZ0009" in unmatched.message
    assert "SECRETNAME" not in unmatched.message and "Hidden" not in unmatched.message
    assert vx.file.rows == 4 and vx.file.table == "VASS" and vx.file.encoding == "cp1252"
    assert vx.ok


def test_pipe_file_without_header_mapped_by_index(tmp_path: Path) -> None:
    path = _write(tmp_path / "results.txt", ROWS)
    mapping = VassMapping(vcaa_number=0, student_key=1, unit_code=4, result=5, year=6)
    vx = read_vass(path, mapping=mapping, students=STUDENTS)

    assert vx.mapping.has_header is False
    assert list(vx.results["student_key"]) == ["ABC0001", "ABC0002", "ABC0003"]
    assert [f.row for f in vx.findings] == [4]


def test_header_detected_with_index_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path / "results.txt", [HEADER, *ROWS])
    vx = read_vass(path, mapping=VassMapping(vcaa_number=0, result=5), students=STUDENTS)

    assert vx.mapping.has_header is True
    assert list(vx.results["result"]) == ["S", "S"]  # no school id mapped: ABC0002 unmatched
    assert {f.row for f in vx.findings} == {3, 5}


def test_custom_delimiter_and_mapping_by_name(tmp_path: Path) -> None:
    lines = ["Student Id,VCAA No,Study,Grade,Yr", "ABC0003,24000001B,HH011,S,2024"]
    path = _write(tmp_path / "results.csv", lines, sep=",")
    path.write_bytes(path.read_bytes().replace(b"|", b","))
    mapping = VassMapping(
        vcaa_number="VCAA No",
        student_key="Student Id",
        unit_code="Study",
        result="Grade",
        year="Yr",
        delimiter=",",
    )
    vx = read_vass(path, mapping=mapping, students=STUDENTS)

    assert vx.findings == ()
    assert vx.results.to_dict("records") == [
        {
            "student_key": "ABC0003",
            "vcaa_number": "24000001B",
            "unit_code": "HH011",
            "result": "S",
            "year": "2024",
        },
    ]


def test_match_by_vcaa_number_first_then_school_id(tmp_path: Path) -> None:
    # the VCAA number says ABC0001 though the school id says ABC0002: the VCAA number wins
    path = _write(
        tmp_path / "r.txt",
        [HEADER, "25123456A|ABC0002|X|Y|EN011|S|2025", "|abc0002|X|Y|EN012|N|2025"],
    )
    vx = read_vass(path, students=STUDENTS)

    assert list(vx.results["student_key"]) == ["ABC0001", "ABC0002"]
    assert vx.findings == ()


def test_malformed_vcaa_number_is_an_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "r.txt", [HEADER, "1234567|ABC0001|A|B|EN011|S|2025", "|||||S|2025", ROWS[0]]
    )
    vx = read_vass(path, students=STUDENTS)

    errors = {f.code: f for f in vx.errors}
    assert errors["malformed_vcaa_number"].row == 2
    assert "8 digits followed by a check letter" in errors["malformed_vcaa_number"].message
    assert errors["missing_key"].row == 3
    assert not vx.ok
    assert list(vx.results["vcaa_number"]) == ["25123456A"]


def test_without_students_nothing_is_matched_or_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.txt", [HEADER, *ROWS])
    vx = read_vass(path)

    assert len(vx.results) == 4
    assert list(vx.results["student_key"]) == ["ABC0001", "ABC0002", "", "XYZ0009"]
    assert vx.findings == ()


def test_utf8_bom_and_names_are_not_kept(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.txt", [HEADER, *ROWS], encoding="utf-8-sig")
    vx = read_vass(path, students=STUDENTS)

    assert vx.file.encoding == "utf-8-sig"
    assert "O’BRIEN" not in vx.results.to_string()
    assert len(vx.results) == 3


def test_mapping_round_trips_through_a_dict() -> None:
    mapping = VassMapping(vcaa_number="VCAA No", student_key=1, delimiter=";", has_header=None)
    data = json.loads(json.dumps(mapping.to_dict()))

    assert VassMapping.from_dict(data) == mapping
    assert data["delimiter"] == ";" and data["student_key"] == 1


@pytest.mark.parametrize(
    "data",
    [
        {"vcaa_number": 0, "delimiter": "||"},
        {"vcaa_number": -1},
        {"vcaa_number": 0, "colour": "red"},
        {"student_key": 1},
        {"vcaa_number": 0, "has_header": "maybe"},
        {"vcaa_number": True},
    ],
)
def test_bad_mappings_are_refused_clearly(data: dict[str, object]) -> None:
    with pytest.raises(ExtractError):
        VassMapping.from_dict(data)


def test_mapped_column_missing_from_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "r.txt", [HEADER, *ROWS])
    vx = read_vass(path, mapping=VassMapping(vcaa_number="Candidate"), students=STUDENTS)

    (f,) = vx.errors
    assert (f.code, f.row, f.column) == ("missing_column", 1, "Candidate")
    assert len(vx.results) == 0


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="does not exist"):
        read_vass(tmp_path / "nope.txt")
    pdf = tmp_path / "r.txt"
    pdf.write_bytes(b"%PDF-1.5 nope")
    vx = read_vass(pdf)
    assert [f.code for f in vx.errors] == ["not_a_table_file"]
