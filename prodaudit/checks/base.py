"""The LibCST check base class and the value a check reports.

A check is a `libcst.BatchableCSTVisitor`, so every check a file needs runs in one traversal of one
parse. A check reads the source text; what a rule applies to is the rule's business (`paths`,
`tests`). A few checks also read neighbouring files (a Django migration's earlier migrations): they
name them in `inputs`, whose contents join the cache key, and read them through `self.path`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import libcst
from libcst.metadata import PositionProvider


@dataclass(frozen=True)
class Report:
    """One hit of one check: 1-based line and column of the node's start and end (end column exclusive)."""

    check: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str = ""


class CheckCrash(Exception):
    """A check raised: a bug in prodaudit, reported as an engine error (the scan fails closed)."""

    def __init__(self, check: str, line: int | None, exc: BaseException) -> None:
        where = f" at line {line}" if line else ""
        super().__init__(f"check {check} crashed{where}: {type(exc).__name__}: {exc}")
        self.check = check


_MISSING: Any = object()


class Check(libcst.BatchableCSTVisitor):
    """Subclass with a `name`, `visit_*`/`leave_*` methods, and call `self.report(node, message)`.

    Declare `METADATA_DEPENDENCIES` (e.g. QualifiedNameProvider) as in LibCST. PositionProvider is
    always available without declaring it, and is computed only when a check first asks for a
    position, usually by reporting: most files produce no report, and positions cost a tree walk."""

    name: ClassVar[str] = ""
    METADATA_DEPENDENCIES: ClassVar[tuple] = ()

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[Report] = []
        self._wrapper: libcst.MetadataWrapper | None = None
        # The file being checked (absolute), set by the engine; None when a check runs on text alone.
        self.path: Path | None = None

    @classmethod
    def inputs(cls, path: Path) -> Sequence[Path]:
        """Other files whose text this check's reports depend on when checking `path`: their
        contents are part of the cache key. Most checks read only the file itself."""
        return ()

    @contextmanager
    def resolve(self, wrapper: libcst.MetadataWrapper) -> Iterator[None]:
        self._wrapper = wrapper
        try:
            with super().resolve(wrapper):
                yield
        finally:
            self._wrapper = None

    def get_metadata(self, key: Any, node: libcst.CSTNode, default: Any = _MISSING) -> Any:
        if key is PositionProvider and key not in self.get_inherited_dependencies():
            if self._wrapper is None:
                raise KeyError("PositionProvider needs a MetadataWrapper; run checks with visit_batched")
            positions = self._wrapper.resolve(PositionProvider)  # the wrapper caches it per file
            return positions[node] if default is _MISSING else positions.get(node, default)
        if default is _MISSING:
            return super().get_metadata(key, node)
        return super().get_metadata(key, node, default)

    def report(self, node: libcst.CSTNode, message: str | None = None) -> None:
        pos = self.get_metadata(PositionProvider, node)
        self.reports.append(
            Report(self.name, pos.start.line, pos.start.column + 1, pos.end.line, pos.end.column + 1, message or "")
        )

    def get_visitors(self) -> Mapping[str, Callable[[libcst.CSTNode], None]]:
        # Each visitor method is wrapped so a crash names the check and the line it crashed on.
        return {name: self._guarded(getattr(self, name)) for name in _visitor_names(type(self))}

    def _guarded(self, method: Callable[[libcst.CSTNode], None]) -> Callable[[libcst.CSTNode], None]:
        def run(node: libcst.CSTNode) -> None:
            try:
                method(node)
            except CheckCrash:
                raise
            except Exception as exc:
                raise CheckCrash(self.name, self._line_of(node), exc) from exc

        return run

    def _line_of(self, node: libcst.CSTNode) -> int | None:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except Exception:  # the position itself is not worth a second crash
            return None


@functools.lru_cache(maxsize=None)
def _visitor_names(cls: type) -> tuple[str, ...]:
    """The visit_/leave_ methods a check class defines (libcst's own stubs are marked no-op)."""
    return tuple(
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if name.startswith(("visit_", "leave_")) and not getattr(member, "_is_no_op", False)
    )
