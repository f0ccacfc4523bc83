"""Unit tests of the generic CSV reader: every problem named by file, line and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest

from cxtradeoff.datafiles import read_csv_validated, row_check
from cxtradeoff.errors import DataValidationError

HEADER = "id,value,unit,n,status"

SCHEMA = pa.DataFrameSchema(
    {
        "id": pa.Column(str, unique=True),
        "value": pa.Column(float, nullable=True),
        "unit": pa.Column(str, pa.Check.isin(["share", "multiple"])),
        "n": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "status": pa.Column(str, pa.Check.isin(["verified", "unverified"])),
    },
    checks=[
        row_check(
            "value",
            lambda df: (df["unit"] != "share") | df["value"].between(0, 1),
            expected="a share between 0 and 1",
        )
    ],
    strict=True,
)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, schema: pa.DataFrameSchema = SCHEMA) -> list[str]:
    with pytest.raises(DataValidationError) as info:
        read_csv_validated(path, schema, what="test figures")
    assert info.value.path == path
    assert str(path) in str(info.value)
    return info.value.problems


def test_valid_file_is_typed_and_kept_in_order(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,100,verified\nb,5,multiple,,unverified\n")
    df = read_csv_validated(path, SCHEMA, what="test figures")
    assert list(df.columns) == ["id", "value", "unit", "n", "status"]
    assert df["value"].tolist() == [0.5, 5.0]
    assert str(df["n"].dtype) == "Int64"
    assert df["n"].iloc[0] == 100
    assert pd.isna(df["n"].iloc[1])
    assert df["id"].tolist() == ["a", "b"]


def test_share_above_one_names_line_column_value_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,1,verified\nb,1.4,share,1,verified\n")
    assert problems_of(path) == [
        "data.csv, line 3, column 'value': 1.4 is not a share between 0 and 1"
    ]


def test_row_check_applies_only_where_its_condition_holds(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,25,multiple,1,verified\nb,,share,1,verified\n")
    df = read_csv_validated(path, SCHEMA, what="test figures")
    assert len(df) == 2


def test_row_check_can_require_a_value(tmp_path: Path) -> None:
    schema = pa.DataFrameSchema(
        {"unit": pa.Column(str), "value": pa.Column(float, nullable=True)},
        checks=[
            row_check(
                "value",
                lambda df: (df["unit"] != "share") | df["value"].notna(),
                expected="a number (unit is 'share')",
                ignore_missing=False,
            )
        ],
    )
    path = write(tmp_path, "unit,value\nshare,0.2\nnone,\nshare,\n")
    assert problems_of(path, schema) == [
        "data.csv, line 4, column 'value': an empty cell is not a number (unit is 'share')"
    ]


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "id,value,unit,status\na,0.5,share,verified\n")
    (problem,) = problems_of(path)
    assert problem.startswith("data.csv, line 1 (header): column 'n' is missing")
    assert "expected columns: id, value, unit, n, status" in problem


def test_unexpected_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER},extra\na,0.5,share,1,verified,x\n")
    (problem,) = problems_of(path)
    assert problem.startswith("data.csv, line 1 (header): unexpected column 'extra'")


def test_unknown_vocabulary_lists_allowed_values(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,1,checked\n")
    assert problems_of(path) == [
        "data.csv, line 2, column 'status': 'checked' is not one of: verified, unverified"
    ]


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\na,0.5,share,1,verified\nb,0.5,share,1,verified\na,0.2,share,1,verified\n",
    )
    assert problems_of(path) == [
        "data.csv, line 2, column 'id': 'a' is a duplicate; values must be unique (also on line 4)",
        "data.csv, line 4, column 'id': 'a' is a duplicate; values must be unique (also on line 2)",
    ]


def test_text_in_numeric_column_is_reported_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,half,share,1,verified\nb,0.5,share,many,verified\n")
    assert problems_of(path) == [
        "data.csv, line 2, column 'value': 'half' is text, but a number is expected",
        "data.csv, line 3, column 'n': 'many' is text, but a whole number is expected",
    ]


def test_fraction_in_integer_column(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,2.5,verified\n")
    assert problems_of(path) == ["data.csv, line 2, column 'n': 2.5 is not a whole number"]


def test_builtin_bound_is_phrased(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,0,verified\n")
    assert problems_of(path) == ["data.csv, line 2, column 'n': 0 is not at least 1"]


def test_empty_required_cell(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,0.5,share,1,\n")
    assert problems_of(path) == [
        "data.csv, line 2, column 'status': the cell is empty, but a value is required"
    ]


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "", name="claims.csv")
    assert problems_of(path) == [
        "claims.csv: the test figures file is empty; expected a header line of columns"
    ]


def test_whitespace_only_file_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path, "\n  \n")
    assert "is empty" in problems_of(path)[0]


def test_header_without_rows(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\n")
    assert problems_of(path) == [
        "data.csv: the test figures file has 0 data row(s) below its header; at least 1 expected"
    ]
    assert read_csv_validated(path, SCHEMA, what="test figures", min_rows=0).empty


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    (problem,) = problems_of(path)
    assert problem.startswith("absent.csv: the test figures file does not exist")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path)
    assert "is not a file" in problem


def test_wrong_field_count_and_line_numbers_after_multiline_cells(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "a,0.5,share,1\n"  # line 2: one field short
        '"b",0.5,share,1,"verified"\n'  # line 3
        "\n"  # line 4: blank, skipped
        'c,0.5,share,1,"verified"\n'  # line 5
        'd,0.5,"share",1,"un\nknown"\n'  # lines 6-7: a cell over two lines
        "e,3,share,1,verified\n"  # line 8
    )
    assert problems_of(write(tmp_path, text)) == [
        "data.csv, line 2: 4 field(s), but the header has 5",
        "data.csv, line 6, column 'status': 'un\\nknown' is not one of: verified, unverified",
        "data.csv, line 8, column 'value': 3 is not a share between 0 and 1",
    ]


def test_duplicate_header_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,id,value\na,b,1\n")
    assert problems_of(path) == ["data.csv, line 1 (header): column 'id' appears more than once"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(f"{HEADER}\n".encode() + "é,0.5,share,1,verified\n".encode("latin-1"))
    (problem,) = problems_of(path)
    assert problem.startswith("latin.csv: the test figures file is not UTF-8 text")


def test_several_problems_are_reported_at_once_in_line_order(tmp_path: Path) -> None:
    text = (
        f"{HEADER},extra\n"
        "a,0.5,share,100,verified,1\n"
        "a,1.4,share,abc,bogus,2\n"
        "c,hello,share,2.5,verified,3\n"
        "d,,multiple,-1,,4\n"
    )
    problems = problems_of(write(tmp_path, text))
    assert problems == [
        "data.csv, line 1 (header): unexpected column 'extra' "
        "(expected columns: id, value, unit, n, status)",
        "data.csv, line 2, column 'id': 'a' is a duplicate; values must be unique (also on line 3)",
        "data.csv, line 3, column 'id': 'a' is a duplicate; values must be unique (also on line 2)",
        "data.csv, line 3, column 'value': 1.4 is not a share between 0 and 1",
        "data.csv, line 3, column 'n': 'abc' is text, but a whole number is expected",
        "data.csv, line 3, column 'status': 'bogus' is not one of: verified, unverified",
        "data.csv, line 4, column 'value': 'hello' is text, but a number is expected",
        "data.csv, line 4, column 'n': 2.5 is not a whole number",
        "data.csv, line 5, column 'n': -1 is not at least 1",
        "data.csv, line 5, column 'status': the cell is empty, but a value is required",
    ]


def test_message_counts_the_problems(tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na,2,share,0,checked\n")
    with pytest.raises(DataValidationError, match=r"3 problem\(s\)"):
        read_csv_validated(path, SCHEMA, what="test figures")


def test_custom_check_error_text_is_used(tmp_path: Path) -> None:
    schema = pa.DataFrameSchema(
        {"date": pa.Column(str, pa.Check.str_matches(r"^\d{4}(-\d{2}){0,2}$", error="an ISO date"))}
    )
    path = write(tmp_path, "date\n2025-11-14\n14/11/2025\n")
    assert problems_of(path, schema) == [
        "data.csv, line 3, column 'date': '14/11/2025' is not an ISO date"
    ]


def test_dates_and_booleans_are_converted(tmp_path: Path) -> None:
    schema = pa.DataFrameSchema({"day": pa.Column("datetime64[ns]"), "flag": pa.Column(bool)})
    path = write(tmp_path, "day,flag\n2025-11-14,true\n2024-07-09,No\n")
    df = read_csv_validated(path, schema, what="test figures")
    assert df["day"].tolist() == [pd.Timestamp("2025-11-14"), pd.Timestamp("2024-07-09")]
    assert df["flag"].tolist() == [True, False]
    bad = write(tmp_path, "day,flag\n14 Nov,maybe\n", name="bad.csv")
    assert problems_of(bad, schema) == [
        "bad.csv, line 2, column 'day': '14 Nov' is not a date (expected YYYY-MM-DD)",
        "bad.csv, line 2, column 'flag': 'maybe' is not true or false",
    ]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\na,0.5,share,1,verified\n".encode())
    assert read_csv_validated(path, SCHEMA, what="test figures")["id"].tolist() == ["a"]
