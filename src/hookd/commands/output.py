"""What a command prints: a table (rich) for people, or the API's JSON or YAML for scripts.

``--output json`` and ``--output yaml`` print the API's answer as it came (a list command prints
the whole page: ``data``, ``iterator``, ``prevIterator``, ``done``), on stdout and nothing else
there; a table shows a list's rows (the ``columns`` a command names) or an object's fields, and
says on stderr how to get the next page. rich and PyYAML are imported only when used.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, TextIO

# A column: a key of the rows (``a.b`` for a nested one), or (key, header).
Column = str | tuple[str, str]
# Width of a table that goes to a file or a pipe: its lines are never wrapped.
UNWRAPPED_WIDTH = 100_000


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def to_yaml(value: Any) -> str:
    import yaml

    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False))


def lookup(item: Any, key: str) -> Any:
    """``a.b`` reads ``item["a"]["b"]``; a missing key is None."""
    value = item
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def cell(value: Any) -> str:
    """A value as one table cell: lists joined, objects as compact JSON, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def is_page(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("data"), list) and "done" in value


def render(
    value: Any,
    fmt: Format,
    *,
    columns: Sequence[Column] = (),
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> None:
    """Print ``value`` (an API answer) in ``fmt``."""
    out = stdout or sys.stdout
    if fmt is Format.JSON:
        out.write(to_json(value) + "\n")
        return
    if fmt is Format.YAML:
        out.write(to_yaml(value))
        return
    from rich.console import Console

    console = Console(file=out, soft_wrap=False, width=None if out.isatty() else UNWRAPPED_WIDTH)
    if is_page(value):
        console.print(_list_table(value["data"], columns))
        if not value.get("done") and value.get("iterator"):
            err = stderr or sys.stderr
            err.write(f"more: --iterator {value['iterator']}\n")
    elif isinstance(value, list):
        console.print(_list_table(value, columns))
    elif isinstance(value, Mapping):
        console.print(_object_table(value))
    elif value is not None:
        console.print(cell(value), markup=False, highlight=False)


def _list_table(rows: Sequence[Any], columns: Sequence[Column]) -> Any:
    from rich.table import Table

    chosen = [c if isinstance(c, tuple) else (c, c) for c in columns or _keys_of(rows)]
    keys = [key for key, _ in chosen]
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    for key, header in chosen:
        # Ids are what a reader copies: never folded.
        whole = key == "id" or key.endswith("Id")
        table.add_column(header, overflow="fold", no_wrap=whole, min_width=None)
    for row in rows:
        table.add_row(*(_text(cell(lookup(row, key))) for key in keys))
    if not rows:
        table.caption = "(none)"
    return table


def _object_table(value: Mapping[str, Any]) -> Any:
    from rich.table import Table

    table = Table(show_header=False, show_edge=False, pad_edge=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, item in value.items():
        table.add_row(_text(str(key)), _text(cell(item)))
    return table


def _text(value: str) -> Any:
    from rich.text import Text

    return Text(value)  # never markup: values are data


def _keys_of(rows: Sequence[Any]) -> list[str]:
    keys: dict[str, None] = {}
    for row in rows:
        if isinstance(row, Mapping):
            keys.update(dict.fromkeys(str(key) for key in row))
    return list(keys)
