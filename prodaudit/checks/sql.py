"""SQL migration checks, on a small statement reader: comments, string literals and dollar-quoted
bodies are blanked out (keeping offsets, so lines stay right) before statements are split at `;`.

The "down" direction of a migration is expected to drop what "up" created, so it is ignored:
files named `*.down.sql` / `down.sql` / Flyway undo scripts (`U1__x.sql`), and everything after a
dbmate, goose or sql-migrate down marker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from prodaudit.checks.configbase import Hit

_DOWN_FILE = re.compile(r"(?:^|[/._-])down\.sql$|\.undo\.sql$|(?:^|/)U\d[^/]*__[^/]*\.sql$", re.IGNORECASE)
_DOWN_MARKER = re.compile(r"^\s*--\s*(?:migrate:down|\+goose\s+down|\+migrate\s+down)\b", re.IGNORECASE | re.MULTILINE)
_IDENT = r'(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w$]+)(?:\.(?:"[^"]+"|`[^`]+`|[\w$]+))*'
_CREATE_TABLE = re.compile(
    rf"^CREATE\s+(?:(?:GLOBAL\s+|LOCAL\s+)?(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?({_IDENT})",
    re.I,
)
_DROP_TABLE = re.compile(rf"^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?({_IDENT}(?:\s*,\s*{_IDENT})*)", re.I)
# `INSERT INTO new SELECT ... FROM old`: the rows of `old` are copied before it is dropped (SQLite's
# table-rebuild recipe: create a new table, copy, drop the old one, rename the new one).
_COPY_FROM = re.compile(rf"^INSERT\s+INTO\s+{_IDENT}.*?\bSELECT\b.*?\bFROM\s+({_IDENT})", re.I | re.S)
_ALTER_TABLE = re.compile(rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({_IDENT})\s+(.*)$", re.I | re.S)
# Scratch tables and columns a migration makes for itself (`_users_tmp`, `tmp_nid`, `_old_email`).
_SCRATCH = re.compile(r"^_|(?:^|_)te?mp(?:_|$)", re.I)
# `DROP x` clauses of ALTER TABLE that remove no data.
_HARMLESS_DROP = {"CONSTRAINT", "DEFAULT", "NOT", "INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "PARTITION",
                  "IDENTITY", "EXPRESSION", "TRIGGER", "ROW", "SYSTEM"}  # fmt: skip


@dataclass(frozen=True)
class Statement:
    text: str  # comments and literals blanked, whitespace collapsed
    start: int  # offset in the file
    end: int


def _blank(text: str) -> str:
    """Comments, string literals and $tag$ bodies replaced by spaces (newlines kept)."""
    out = list(text)
    i, n = 0, len(text)

    def wipe(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            wipe(i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            wipe(i, j)
            i = j
        elif c == "'":
            j = i + 1
            while j < n and not (text[j] == "'" and not text.startswith("''", j)):
                j += 2 if text.startswith("''", j) else 1
            wipe(i + 1, j)
            i = j + 1
        elif c == "$" and (m := re.match(r"\$(\w*)\$", text[i:])):
            tag = m.group(0)
            j = text.find(tag, i + len(tag))
            j = n if j < 0 else j + len(tag)
            wipe(i, j)
            i = j
        else:
            i += 1
    return "".join(out)


def statements(text: str) -> Iterator[Statement]:
    blanked = _blank(text)
    start = 0
    for m in re.finditer(r";|\Z", blanked):
        chunk = blanked[start : m.start()]
        if chunk.strip():
            lead = len(chunk) - len(chunk.lstrip())
            yield Statement(" ".join(chunk.split()), start + lead, m.start())
        start = m.end()
        if m.end() >= len(blanked):
            break


def _names(idents: str) -> set[str]:
    return {part.strip().strip('"`[]').lower() for part in idents.split(",")}


def _added_columns(clauses: str) -> set[str]:
    return {
        m.group(3).strip('"`[]').lower()
        for m in re.finditer(rf"\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?({_IDENT})", clauses, re.I)
        if m.group(1) or m.group(3).upper() not in _HARMLESS_DROP | {"UNIQUE"}
    }


def _dropped_columns(clauses: str) -> list[str]:
    """Columns an ALTER TABLE removes: `DROP [COLUMN] [IF EXISTS] c`, not `DROP CONSTRAINT` etc."""
    out = []
    for m in re.finditer(rf"\bDROP\s+(COLUMN\s+)?(IF\s+EXISTS\s+)?({_IDENT})", clauses, re.I):
        word = m.group(3).upper()
        if m.group(1) or word not in _HARMLESS_DROP:
            # `ALTER COLUMN c DROP DEFAULT|NOT NULL|IDENTITY|EXPRESSION` is caught by the set above.
            out.append(m.group(3).strip('"`[]'))
    return out


def up_direction(text: str, path: str) -> str:
    """The part of a SQL migration that runs on the way up: "" for a down file, else the text
    before a dbmate/goose/sql-migrate down marker (offsets, and so lines, unchanged)."""
    if _DOWN_FILE.search(path):
        return ""
    marker = _DOWN_MARKER.search(text)
    return text[: marker.start()] if marker else text


def drops_data(text: str, path: str) -> list[Hit]:
    """DROP TABLE / DROP COLUMN / TRUNCATE / DROP SCHEMA|DATABASE / DELETE without WHERE in an up migration."""
    up = up_direction(text, path)
    created: set[str] = set()  # new tables: nothing to lose
    copied: set[str] = set()  # tables whose rows were copied elsewhere first
    added: set[tuple[str, str]] = set()  # columns this migration added itself
    hits: list[Hit] = []
    for stmt in statements(up):
        message = None
        if m := _CREATE_TABLE.match(stmt.text):
            created |= _names(m.group(1))
        elif m := _COPY_FROM.match(stmt.text):
            copied |= _names(m.group(1))
        elif m := _DROP_TABLE.match(stmt.text):
            lost = {t for t in _names(m.group(1)) - created - copied if not _SCRATCH.search(t.rsplit(".", 1)[-1])}
            if lost:
                message = f"DROP TABLE {', '.join(sorted(lost))} deletes the table and every row in it."
        elif m := _ALTER_TABLE.match(stmt.text):
            table = m.group(1).strip('"`[]')
            added |= {(table.lower(), c) for c in _added_columns(m.group(2))}
            columns = [
                c for c in _dropped_columns(m.group(2))
                if (table.lower(), c.lower()) not in added and not _SCRATCH.search(c)
            ]
            if columns and table.lower() not in created and not _SCRATCH.search(table.rsplit(".", 1)[-1]):
                message = f"ALTER TABLE {table} drops column(s) {', '.join(columns)} and all their data."
        elif re.match(r"^TRUNCATE\b", stmt.text, re.I):
            message = "TRUNCATE deletes every row of the table (with CASCADE, of every table that references it)."
        elif m := re.match(r"^DROP\s+(SCHEMA|DATABASE)\b", stmt.text, re.I):
            message = f"DROP {m.group(1).upper()} deletes everything in it."
        elif re.match(r"^DELETE\s+FROM\b", stmt.text, re.I) and not re.search(r"\bWHERE\b", stmt.text, re.I):
            message = "DELETE without WHERE removes every row of the table."
        if message:
            hits.append((*span_of(text, stmt.start, stmt.end), message))
    return hits


def span_of(text: str, start: int, end: int) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) of text[start:end], 1-based, end column exclusive."""
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = text.count("\n", 0, end) + 1
    end_column = end - (text.rfind("\n", 0, end) + 1) + 1
    return line, column, end_line, end_column
