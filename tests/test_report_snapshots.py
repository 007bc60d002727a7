"""Every renderer on the sample report, compared byte for byte with tests/snapshots/report/.

After an intended change of output: `PRODAUDIT_UPDATE_SNAPSHOTS=1 pytest tests/test_report_snapshots.py`,
then read the diff of tests/snapshots before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from builders import clean_report, make_finding, make_report, sample_report, SAMPLE_RULES, SEC001, REL003

from prodaudit.report import ScanReport
from prodaudit.report.renderers import RENDERERS

SNAPSHOTS = Path(__file__).parent / "snapshots" / "report"
UPDATE = os.environ.get("PRODAUDIT_UPDATE_SNAPSHOTS") == "1"


def diff_mode_report() -> ScanReport:
    """--diff-base: one new Stop-Ship finding, one existing Fix-Soon one; READY WITH RISKS elsewhere."""
    findings = [
        make_finding(SEC001, "app/auth/session.py", 8, 12, snippet="    data = jwt.decode(t, verify=False)", new=True),
        make_finding(REL003, "app/jobs.py", 40, 5, snippet="    except Exception:\n        pass", new=False),
    ]
    return make_report(findings, SAMPLE_RULES, files_scanned=2, files_changed=2, notes=("diff base: origin/main",))


CASES = {
    "sample.txt": lambda: RENDERERS["text"](sample_report()),
    "sample-verbose.txt": lambda: RENDERERS["text"](sample_report(), verbose=True),
    "sample-quiet.txt": lambda: RENDERERS["text"](sample_report(), quiet=True),
    "sample-color.txt": lambda: RENDERERS["text"](sample_report(), color=True),
    "clean.txt": lambda: RENDERERS["text"](clean_report()),
    "diff.txt": lambda: RENDERERS["text"](diff_mode_report()),
    "sample.json": lambda: RENDERERS["json"](sample_report()),
    "clean.json": lambda: RENDERERS["json"](clean_report()),
    "sample.sarif": lambda: RENDERERS["sarif"](sample_report()),
    "diff.sarif": lambda: RENDERERS["sarif"](diff_mode_report()),
    "sample.md": lambda: RENDERERS["markdown"](sample_report()),
    "clean.md": lambda: RENDERERS["markdown"](clean_report()),
    "diff.md": lambda: RENDERERS["markdown"](diff_mode_report()),
    "sample.junit.xml": lambda: RENDERERS["junit"](sample_report()),
    "clean.junit.xml": lambda: RENDERERS["junit"](clean_report()),
    "sample.github.txt": lambda: RENDERERS["github"](sample_report()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_snapshot(name: str) -> None:
    actual = CASES[name]()
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual.encode("utf-8"))
    assert path.exists(), f"no snapshot {path}; run with PRODAUDIT_UPDATE_SNAPSHOTS=1 to create it"
    expected = path.read_bytes().decode("utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), actual.splitlines(keepends=True), "snapshot", "rendered"
            )
        )
        pytest.fail(f"{name} differs from its snapshot (PRODAUDIT_UPDATE_SNAPSHOTS=1 to accept):\n{diff}")


def test_every_format_has_a_snapshot() -> None:
    covered = {"text": ".txt", "json": ".json", "sarif": ".sarif", "markdown": ".md", "junit": ".junit.xml",
               "github": ".github.txt"}  # fmt: skip
    assert set(covered) == set(RENDERERS)
    for suffix in covered.values():
        assert any(name.endswith(suffix) for name in CASES)


def test_no_stale_snapshots() -> None:
    """A snapshot no test writes would silently stop being checked."""
    on_disk = {p.name for p in SNAPSHOTS.iterdir()} if SNAPSHOTS.is_dir() else set()
    assert on_disk <= set(CASES), f"unused snapshots: {sorted(on_disk - set(CASES))}"
