"""Which Python targets no parser can read, and which only the host `ast` (Bandit's parser) cannot.

`ast` is fast, so every Python file is tried with it first; only files it rejects are tried with
LibCST's parser, which knows newer grammar (e.g. PEP 701 f-strings on Python 3.11)."""

from __future__ import annotations

import ast
import warnings
from collections.abc import Sequence
from pathlib import Path

import libcst

from prodaudit.model import Skipped, Target


def classify_python(targets: Sequence[Target]) -> tuple[set[str], list[Skipped]]:
    """Return (paths unreadable by every parser, skip entries for them and for host-ast-only failures)."""
    unparseable: set[str] = set()
    skipped: list[Skipped] = []
    for target in targets:
        if target.language != "python":
            continue
        try:
            source = Path(target.abspath).read_bytes()
        except OSError as exc:
            unparseable.add(target.path)
            skipped.append(Skipped(target.path, "unreadable", detail=str(exc)[:200]))
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings from scanned code are not ours
                ast.parse(source, filename=target.path)
            continue
        except (SyntaxError, ValueError) as exc:
            host_error = f"line {getattr(exc, 'lineno', '?')}: {getattr(exc, 'msg', exc)}"
        try:
            libcst.parse_module(source)
        except Exception as exc:  # libcst raises ParserSyntaxError and, on odd input, others
            unparseable.add(target.path)
            skipped.append(Skipped(target.path, "unparseable", detail=_first_line(str(exc)) or host_error))
            continue
        skipped.append(
            Skipped(target.path, "unparseable", engine="bandit", detail=f"newer syntax than this Python's ast reads ({host_error})")
        )
    return unparseable, skipped


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""
