"""Read a CSV data file and validate it, reporting every problem at once.

:func:`read_csv_validated` is the one way the package reads its data files. It
parses the CSV itself (so that each record keeps the line number it starts on),
turns text into the column types the schema asks for, validates lazily with
pandera and converts every failure into one readable sentence::

    evidence_claims.csv, line 7, column 'article_value': 1.4 is not a share between 0 and 1

All the sentences are raised together in one :class:`~cxtradeoff.errors.DataValidationError`.

Checks that need several columns of a row (a share must lie in 0..1 only when the
``unit`` column says ``share``) are built with :func:`row_check`, so that their
failures still name the line and the column at fault.

Writing a check's ``error`` text
--------------------------------
A failed check reads ``<value> is not <expected>``, where ``<expected>`` is the
check's ``error`` text when it has one (write it as a noun phrase: ``"a share
between 0 and 1"``), otherwise a phrase made from pandera's built-in check.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from cxtradeoff.errors import DataValidationError

__all__ = ["read_csv_checked", "read_csv_validated", "row_check"]

#: key under which :func:`row_check` stores its target column in ``Check.statistics``
_ROW_CHECK_COLUMN = "cxtradeoff_row_check_column"
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
#: pandera's built-in checks, whose default ``error`` text is replaced by a phrase
_BUILTIN_CHECKS = frozenset(
    {
        "equal_to",
        "not_equal_to",
        "greater_than",
        "greater_than_or_equal_to",
        "less_than",
        "less_than_or_equal_to",
        "in_range",
        "isin",
        "notin",
        "str_matches",
        "str_contains",
        "str_startswith",
        "str_endswith",
        "str_length",
        "unique_values_eq",
    }
)


def row_check(
    column: str,
    ok: Callable[[pd.DataFrame], pd.Series],
    *,
    expected: str,
    name: str | None = None,
    ignore_missing: bool = True,
) -> pa.Check:
    """Build a row-wise check over several columns whose failures name one column.

    Parameters
    ----------
    column
        The column a failing row is reported against (the value shown in the message).
    ok
        Takes the whole (type-converted) frame and returns one boolean per row,
        ``True`` where the row is valid.
    expected
        Noun phrase of what a valid value is; the message reads
        ``"<value> is not <expected>"``.
    name
        Name of the check (defaults to ``"row check on <column>"``).
    ignore_missing
        When true (default), rows whose ``column`` is empty pass: whether a value
        may be empty is the column's own ``nullable`` rule.

    Returns
    -------
    pandera.Check
        A DataFrame-level check to pass in ``DataFrameSchema(checks=[...])``.

    Examples
    --------
    >>> share_in_bounds = row_check(
    ...     "value",
    ...     lambda df: (df["unit"] != "share") | df["value"].between(0, 1),
    ...     expected="a share between 0 and 1 (unit is 'share')",
    ... )
    """

    def _check(df: pd.DataFrame) -> pd.Series:
        try:
            result = pd.Series(ok(df), index=df.index).fillna(False).astype(bool)
        except KeyError:
            # a column the check needs is missing: that is reported on its own
            return pd.Series(True, index=df.index)
        if ignore_missing and column in df.columns:
            result = result | df[column].isna()
        return result

    return pa.Check(
        _check,
        name=name or f"row check on {column}",
        error=expected,
        statistics={_ROW_CHECK_COLUMN: column},
    )


def read_csv_validated(
    path: str | Path,
    schema: pa.DataFrameSchema,
    *,
    what: str,
    min_rows: int = 1,
    index_by_line: bool = False,
) -> pd.DataFrame:
    """Read a CSV file and validate it against a pandera schema, all problems at once.

    Empty cells are missing values. Columns the schema types as numbers, booleans or
    dates are converted here; text that cannot be converted is reported as such.
    The schema's own checks then run lazily; every failure becomes one sentence
    naming the file, the line of the CSV (the header is line 1), the column, the
    offending value and what was expected.

    Parameters
    ----------
    path
        The CSV file: UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8"),
        LF or CRLF line ends, comma-separated, one header line.
    schema
        The pandera schema. Use ``strict=True`` to have unexpected columns reported.
    what
        What the file holds, in words (``"evidence claims"``), used in messages.
    min_rows
        Fewest data rows the file must have (default 1).
    index_by_line
        When true, the returned frame's index is the CSV line each row starts on
        (named ``line``), so that later checks can name the line too.

    Returns
    -------
    pandas.DataFrame
        The validated frame, columns in the file's order, index 0..n-1 (or the CSV
        line numbers with ``index_by_line``).

    Raises
    ------
    DataValidationError
        When the file is missing, empty, not valid CSV or fails the schema. Its
        ``problems`` list every problem found.
    """
    frame, problems = read_csv_checked(path, schema, what=what, min_rows=min_rows)
    if problems or frame is None:
        raise DataValidationError(Path(path), problems)
    if not index_by_line:
        frame = frame.reset_index(drop=True)
    return frame


def read_csv_checked(
    path: str | Path,
    schema: pa.DataFrameSchema,
    *,
    what: str,
    min_rows: int = 1,
) -> tuple[pd.DataFrame | None, list[str]]:
    """Read and check a CSV file like :func:`read_csv_validated`, without raising.

    For a reader that adds checks of its own (the company profiles check each value
    with the model's rules) and wants to report them together with the schema's.

    Returns
    -------
    (frame, problems)
        ``frame`` is the type-converted frame indexed by CSV line (``None`` when the
        file could not be parsed at all: missing, not UTF-8, not CSV, a bad header);
        ``problems`` lists every problem found, each a sentence naming the file, the
        line and the column.
    """
    path = Path(path)
    name = path.name
    raw, lines, problems = _read_raw(path, what=what)
    if raw is None:
        return None, problems
    if len(raw) < min_rows:
        problems.append(
            f"{name}: the {what} file has {len(raw)} data row(s) below its header; "
            f"at least {min_rows} expected"
        )
    typed, seen = _convert_types(raw, schema, name=name, lines=lines)
    found: list[tuple[tuple[int, str] | None, str]] = list(seen.items())
    validated: pd.DataFrame = typed
    try:
        validated = schema.validate(typed, lazy=True)
    except SchemaErrors as exc:
        for key, text in _describe_failures(
            exc.failure_cases,
            schema,
            raw=raw,
            lines=lines,
            name=name,
            converted_columns=frozenset(col for _, col in seen),
        ):
            if key is not None and key in seen:
                continue  # already said more precisely (e.g. text in a numeric column)
            if key is not None:
                seen[key] = text
            found.append((key, text))
    order = {col: i for i, col in enumerate(raw.columns)}
    found.sort(key=lambda kt: (0, 0, 0) if kt[0] is None else (1, kt[0][0], order.get(kt[0][1], 0)))
    problems.extend(text for _, text in found)
    validated = validated.copy()
    validated.index = pd.Index(lines, name="line")
    return validated, _unique(problems)


# --------------------------------------------------------------------------- reading


def _read_raw(path: Path, *, what: str) -> tuple[pd.DataFrame | None, list[int], list[str]]:
    """Parse the CSV into a frame of strings (``None`` for empty cells) and line numbers."""
    name = path.name
    if not path.exists():
        return None, [], [f"{name}: the {what} file does not exist ({path})"]
    if not path.is_file():
        return None, [], [f"{name}: the {what} path is not a file ({path})"]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return (
            None,
            [],
            [
                f"{name}: the {what} file is not UTF-8 text (byte {exc.start}: {exc.reason}); "
                "save it as UTF-8 (in Excel: 'CSV UTF-8')"
            ],
        )
    except OSError as exc:
        return None, [], [f"{name}: the {what} file cannot be read ({exc.strerror})"]
    if not text.strip():
        return None, [], [f"{name}: the {what} file is empty; expected a header line of columns"]
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    records: list[list[str]] = []
    lines: list[int] = []
    problems: list[str] = []
    header: list[str] | None = None
    next_line = 1
    try:
        for record in reader:
            start, next_line = next_line, reader.line_num + 1
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip() for cell in record]
                continue
            if len(record) != len(header):
                problems.append(
                    f"{name}, line {start}: {len(record)} field(s), but the header has "
                    f"{len(header)}"
                )
                continue
            records.append(record)
            lines.append(start)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            return (
                None,
                [],
                [
                    f"{name}, line {reader.line_num}: a field is longer than "
                    f"{csv.field_size_limit():,} characters, the most a CSV cell may hold here "
                    "(an unclosed quote often causes this)"
                ],
            )
        return None, [], [f"{name}, line {reader.line_num}: not valid CSV ({exc})"]
    if header is None:  # pragma: no cover - text.strip() was non-empty
        return None, [], [f"{name}: the {what} file is empty; expected a header line of columns"]
    header_problems = [
        f"{name}, line 1 (header): column '{col}' appears more than once"
        for col in sorted({c for c in header if header.count(c) > 1})
    ] + [
        f"{name}, line 1 (header): column {position} has no name"
        for position, col in enumerate(header, start=1)
        if not col
    ]
    if header_problems:
        return None, [], header_problems + problems
    raw = pd.DataFrame(
        [[cell if cell.strip() else None for cell in record] for record in records],
        columns=header,
        dtype=object,
    )
    return raw, lines, problems


def _kind(column: pa.Column) -> str:
    dtype = column.dtype
    if dtype is None:
        return "text"
    text = str(dtype).lower()
    if text.startswith("bool"):
        return "bool"
    if "datetime" in text or text.startswith("date"):
        return "date"
    if "int" in text:
        return "int"
    if pd.api.types.is_numeric_dtype(getattr(dtype, "type", None) or object):
        return "float"
    return "text"


def _convert_types(
    raw: pd.DataFrame, schema: pa.DataFrameSchema, *, name: str, lines: list[int]
) -> tuple[pd.DataFrame, dict[tuple[int, str], str]]:
    """Convert numeric, boolean and date columns; report cells that do not convert."""
    typed = raw.copy()
    problems: dict[tuple[int, str], str] = {}
    for col, spec in schema.columns.items():
        if col not in raw.columns:
            continue
        kind = _kind(spec)
        cells = raw[col]
        present = cells.notna()
        if kind == "text":
            typed[col] = cells.astype("str")
            typed.loc[~present, col] = None
            continue
        if kind in ("float", "int"):
            converted = pd.to_numeric(cells.str.strip(), errors="coerce")
            bad = present & converted.isna()
            for i in bad[bad].index:
                problems[(lines[i], col)] = (
                    f"{name}, line {lines[i]}, column '{col}': {cells[i]!r} is text, "
                    f"but a {'whole ' if kind == 'int' else ''}number is expected"
                )
            if kind == "int":
                fractional = converted.notna() & (converted % 1 != 0)
                for i in fractional[fractional].index:
                    problems[(lines[i], col)] = (
                        f"{name}, line {lines[i]}, column '{col}': {cells[i].strip()} is not "
                        "a whole number"
                    )
                converted = converted.where(~fractional)
                typed[col] = converted.astype("Int64")
            else:
                typed[col] = converted.astype("float64")
        elif kind == "bool":
            lowered = cells.str.strip().str.lower()
            bad = present & ~lowered.isin(_TRUE | _FALSE)
            for i in bad[bad].index:
                problems[(lines[i], col)] = (
                    f"{name}, line {lines[i]}, column '{col}': {cells[i]!r} is not true or false"
                )
            flags = lowered.map(lambda v: True if v in _TRUE else False if v in _FALSE else None)
            typed[col] = flags.astype("boolean") if flags.isna().any() else flags.astype(bool)
        else:  # date
            converted = pd.to_datetime(cells.str.strip(), errors="coerce", format="ISO8601")
            bad = present & converted.isna()
            for i in bad[bad].index:
                problems[(lines[i], col)] = (
                    f"{name}, line {lines[i]}, column '{col}': {cells[i]!r} is not a date "
                    "(expected YYYY-MM-DD)"
                )
            typed[col] = converted
    return typed, problems


# --------------------------------------------------------------------------- messages


def _fmt_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _show(raw: pd.DataFrame, index: int | None, column: str | None, fallback: Any) -> str:
    """The offending value as the user typed it: numbers bare, text quoted."""
    value: Any = fallback
    if index is not None and column is not None and column in raw.columns:
        value = raw.loc[index, column]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "an empty cell"
    if isinstance(value, str):
        stripped = value.strip()
        try:
            float(stripped)
        except ValueError:
            return repr(value)
        return stripped
    if isinstance(value, (int, float)):
        return _fmt_number(value)
    return repr(value)


def _join(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _expected(check: pa.Check) -> str:
    """What a value passing ``check`` looks like, as a noun phrase."""
    stats = dict(check.statistics or {})
    name = check.name
    default_error = name in _BUILTIN_CHECKS and str(check.error).startswith(f"{name}(")
    if check.error and not default_error:
        return str(check.error)
    if name == "in_range":
        low = "" if stats.get("include_min", True) else " (exclusive)"
        high = "" if stats.get("include_max", True) else " (exclusive)"
        return f"between {stats['min_value']}{low} and {stats['max_value']}{high}"
    phrases = {
        "greater_than": "greater than {min_value}",
        "greater_than_or_equal_to": "at least {min_value}",
        "less_than": "less than {max_value}",
        "less_than_or_equal_to": "at most {max_value}",
        "equal_to": "equal to {value}",
        "not_equal_to": "different from {value}",
        "str_matches": "text matching the pattern {pattern!r}",
        "str_contains": "text containing {pattern!r}",
        "str_startswith": "text starting with {string!r}",
        "str_endswith": "text ending with {string!r}",
    }
    if name in phrases:
        try:
            return phrases[name].format(**stats)
        except KeyError:
            pass
    if name == "isin":
        return f"one of: {_join(stats.get('allowed_values', []))}"
    if name == "notin":
        return f"anything but: {_join(stats.get('forbidden_values', []))}"
    if name == "str_length":
        if stats.get("exact_value") is not None:
            return f"text of exactly {stats['exact_value']} characters"
        return f"text of {stats.get('min_value')} to {stats.get('max_value')} characters"
    return f"a value passing the check '{name}'"


def _check_of(
    schema: pa.DataFrameSchema, context: str, column: Any, number: Any
) -> pa.Check | None:
    try:
        n = int(number)
    except (TypeError, ValueError):
        return None
    if context == "Column" and column in schema.columns:
        checks = schema.columns[column].checks
    elif context == "DataFrameSchema":
        checks = schema.checks
    else:
        return None
    return checks[n] if 0 <= n < len(checks) else None


def _describe_failures(
    failures: pd.DataFrame,
    schema: pa.DataFrameSchema,
    *,
    raw: pd.DataFrame,
    lines: list[int],
    name: str,
    converted_columns: frozenset[str] = frozenset(),
) -> list[tuple[tuple[int, str] | None, str]]:
    """Turn pandera's failure cases into ``((line, column) or None, sentence)`` pairs."""
    out: list[tuple[tuple[int, str] | None, str]] = []
    expected_cols = list(schema.columns)
    row_checks_seen: set[tuple[Any, int | None]] = set()
    for case in failures.to_dict("records"):
        context = str(case.get("schema_context"))
        column = case.get("column")
        if column is None or (isinstance(column, float) and math.isnan(column)):
            column = None
        else:
            column = str(column)
        check_label = str(case.get("check"))
        value = case.get("failure_case")
        index = case.get("index")
        index = None if index is None or pd.isna(index) else int(index)
        line = lines[index] if index is not None and 0 <= index < len(lines) else None

        if check_label == "column_in_dataframe":
            out.append(
                (
                    None,
                    f"{name}, line 1 (header): column '{value}' is missing "
                    f"(expected columns: {_join(expected_cols)})",
                )
            )
            continue
        if check_label == "column_in_schema":
            out.append(
                (
                    None,
                    f"{name}, line 1 (header): unexpected column '{value}' "
                    f"(expected columns: {_join(expected_cols)})",
                )
            )
            continue

        check = _check_of(schema, context, column, case.get("check_number"))
        if context == "DataFrameSchema" and check is not None:
            target = (check.statistics or {}).get(_ROW_CHECK_COLUMN)
            if target is not None:
                # pandera repeats a failing row once per column (empty cells left out)
                if (case.get("check_number"), index) in row_checks_seen:
                    continue
                row_checks_seen.add((case.get("check_number"), index))
                column = target
        if (
            check_label.startswith(("coerce_dtype", "dtype"))
            and index is None
            and column in converted_columns
        ):
            continue  # the cells that did not convert are already reported one by one
        where = f"{name}, line {line}" if line is not None else name
        col_text = f", column '{column}'" if column is not None else ""
        key = (line, column) if line is not None and column is not None else None
        shown = _show(raw, index, column, value)

        if check_label == "not_nullable":
            text = f"{where}{col_text}: the cell is empty, but a value is required"
        elif check_label.startswith(("field_uniqueness", "multiple_fields_uniqueness")):
            same: list[int] = []
            if column in raw.columns and index is not None:
                matches = raw.index[raw[column] == raw.loc[index, column]]
                same = [lines[i] for i in matches if i != index]
            others = f" (also on line {_join(same)})" if same else ""
            text = f"{where}{col_text}: {shown} is a duplicate; values must be unique{others}"
        elif check_label.startswith(("coerce_dtype", "dtype")):
            dtype = re.sub(r"^\w+\('?|'?\)$", "", check_label)
            text = f"{where}{col_text}: {shown} cannot be read as {dtype}"
        elif index is None and isinstance(value, str) and ("Error(" in value):
            text = f"{where}{col_text}: check '{check_label}' could not run: {value}"
        elif check is not None:
            if index is None:
                text = f"{where}{col_text}: the column is not {_expected(check)}"
            else:
                text = f"{where}{col_text}: {shown} is not {_expected(check)}"
        else:
            text = f"{where}{col_text}: {shown} fails '{check_label}'"
        out.append((key, text))
    return out


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
