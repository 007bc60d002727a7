"""The output formats by name. Every renderer is a pure function of one ScanReport.

Renderers take keyword options and ignore the ones they do not use, so the CLI can pass the
same options (color, verbose, quiet, max_chars) to whichever format was asked for.
"""

from __future__ import annotations

from typing import Protocol

from prodaudit.report import ScanReport, github, json_report, junit, markdown, sarif, text


class Renderer(Protocol):
    def __call__(self, report: ScanReport, **options: object) -> str: ...


RENDERERS: dict[str, Renderer] = {
    "text": text.render,
    "json": json_report.render,
    "sarif": sarif.render,
    "markdown": markdown.render,
    "junit": junit.render,
    "github": github.render,
}
