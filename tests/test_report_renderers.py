"""The registry of output formats and what every renderer promises."""

from __future__ import annotations

import copy

import pytest
from builders import sample_report

from prodaudit.report.renderers import RENDERERS

OPTIONS = {"color": False, "verbose": True, "quiet": False, "max_chars": 60_000}


def test_formats_match_the_cli_contract() -> None:
    assert set(RENDERERS) == {"text", "json", "sarif", "markdown", "junit", "github"}


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_renderers_are_pure_and_accept_the_shared_options(name: str) -> None:
    report = sample_report()
    before = copy.deepcopy(report)
    first = RENDERERS[name](report, **OPTIONS)
    assert first == RENDERERS[name](report, **OPTIONS)
    assert report == before
    assert first.endswith("\n") and not first.endswith("\n\n")
