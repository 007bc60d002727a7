"""`scan --shard K/N` and `merge`: shards partition the files, and their merge is the full scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from helpers import assert_one_line_error, make_repo, prodaudit

from prodaudit.report.json_report import load_schema

JWT_BAD = "import jwt\nclaims = jwt.decode(token, verify=False)\n"
JWT_TWICE = JWT_BAD + "again = jwt.decode(token, verify=False)\n"
CLEAN = "def add(a, b):\n    return a + b\n"
# With sha256 of the path mod 2, these land in both shards (checked below, so a change shows).
FILES: dict[str, str | bytes] = {
    "app/auth.py": JWT_TWICE,  # shard 2
    "app/util.py": JWT_BAD,  # shard 1
    "lib/helpers.py": JWT_BAD,  # shard 1
    "svc/tokens.py": JWT_BAD,  # shard 2
    "app/api.py": CLEAN,
    "app/clean.py": CLEAN,
    "svc/worker.py": CLEAN,
    "lib/jwtcheck.py": CLEAN,
    "deploy/app.yml": "name: app\nreplicas: 2\n",
    "assets/logo.py": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary",  # skipped: binary (shard 1)
}



@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, Path]:
    """The full scan and both halves, as JSON files."""
    root = make_repo(tmp_path_factory.mktemp("shards") / "repo", FILES)
    out = tmp_path_factory.mktemp("shard-out")
    reports = {}
    for name, extra in (("full", ()), ("s1", ("--shard", "1/2")), ("s2", ("--shard", "2/2"))):
        path = out / f"{name}.json"
        run = prodaudit("scan", *extra, "--format", "json", "--output", str(path), cwd=root)
        assert run.code == 1, (name, run.err)
        reports[name] = path
    return reports


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_shards_cover_every_file_exactly_once(scans) -> None:
    full, s1, s2 = (_load(scans[k]) for k in ("full", "s1", "s2"))
    assert full["summary"]["files_scanned"] == 9
    assert s1["summary"]["files_scanned"] + s2["summary"]["files_scanned"] == 9
    assert s1["summary"]["files_scanned"] > 0 and s2["summary"]["files_scanned"] > 0
    paths = lambda report: [f["path"] for f in report["findings"]]  # noqa: E731
    assert sorted(paths(s1)) == ["app/util.py", "lib/helpers.py"]
    assert sorted(paths(s2)) == ["app/auth.py", "app/auth.py", "svc/tokens.py"]
    # Files outside the shard are not "skipped": each skip is reported by exactly one shard.
    assert [s["path"] for s in s1["skipped"]] == ["assets/logo.py"] and s2["skipped"] == []
    assert s1["summary"]["files_skipped"] + s2["summary"]["files_skipped"] == full["summary"]["files_skipped"] == 1


def test_merge_of_the_shards_equals_the_full_scan(scans, tmp_path) -> None:
    merged_path = tmp_path / "merged.json"
    run = prodaudit("merge", str(scans["s1"]), str(scans["s2"]), "--format", "json", "--output", str(merged_path))
    assert run.code == 1, run.err
    merged, full = _load(merged_path), _load(scans["full"])
    jsonschema.validate(merged, load_schema())
    assert merged["findings"] == full["findings"]
    for key in ("verdict", "exit_code", "summary", "phases", "skipped", "errors", "launch"):
        assert merged[key] == full[key], key
    assert merged == full  # nothing else differs either


def test_merge_renders_every_format_and_honours_exit_zero(scans, tmp_path) -> None:
    text = prodaudit("merge", str(scans["s1"]), str(scans["s2"]))
    assert text.code == 1 and "NOT READY" in text.out and "SEC001" in text.out, text.err
    sarif = prodaudit("merge", str(scans["s1"]), str(scans["s2"]), "--format", "sarif", "--exit-zero")
    assert sarif.code == 0, sarif.err
    assert len(json.loads(sarif.out)["runs"][0]["results"]) == 5
    for fmt in ("markdown", "junit", "github"):
        run = prodaudit("merge", str(scans["s1"]), str(scans["s2"]), "--format", fmt)
        assert run.code == 1 and run.out.strip(), (fmt, run.err)


def test_merging_a_shard_twice_does_not_double_findings(scans) -> None:
    run = prodaudit("merge", str(scans["s1"]), str(scans["s1"]), "--format", "json")
    assert run.code == 1, run.err
    assert run.json["summary"]["stop-ship"] == 2


def test_a_shard_with_errors_makes_the_merge_incomplete(scans, tmp_path) -> None:
    broken = _load(scans["s2"])
    broken["errors"] = [{"engine": "semgrep", "path": None, "message": "timed out after 300 s"}]
    broken["exit_code"] = 3
    (tmp_path / "broken.json").write_text(json.dumps(broken), encoding="utf-8")
    run = prodaudit("merge", str(scans["s1"]), str(tmp_path / "broken.json"), "--format", "json")
    assert run.code == 3, run.err
    assert run.json["exit_code"] == 3 and run.json["errors"][0]["message"] == "timed out after 300 s"
    # --exit-zero never hides an incomplete scan, and exit_code 3 alone is enough to fail closed.
    broken["errors"] = []
    (tmp_path / "claims-3.json").write_text(json.dumps(broken), encoding="utf-8")
    run = prodaudit("merge", str(scans["s1"]), str(tmp_path / "claims-3.json"), "--exit-zero")
    assert run.code == 3, run.err


def test_reports_with_different_launch_do_not_merge(scans, tmp_path) -> None:
    other = _load(scans["s2"])
    other["launch"] = {"type": "internal", "strictness": "low"}
    (tmp_path / "internal.json").write_text(json.dumps(other), encoding="utf-8")
    run = prodaudit("merge", str(scans["s1"]), str(tmp_path / "internal.json"))
    assert_one_line_error(run, 2, "internal.json", "launch")


@pytest.mark.parametrize(
    ("mutate", "needles"),
    [
        (lambda r: r.pop("findings"), ("key 'findings'", "missing")),
        (lambda r: r["findings"][0].update(line="3"), ("key 'findings[0].line'",)),
        (lambda r: r["findings"][0].update(rule_id="SEC999"), ("key 'findings[0].rule_id'", "SEC999")),
        (lambda r: r["findings"][0].update(category="urgent"), ("key 'findings[0].category'",)),
        (lambda r: r.update(schema_version=2), ("key 'schema_version'",)),
        (lambda r: r["launch"].update(type="galactic"), ("key 'launch.type'",)),
    ],
)
def test_invalid_report_is_a_one_line_error_naming_file_and_key(scans, tmp_path, mutate, needles) -> None:
    data = _load(scans["s1"])
    mutate(data)
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    run = prodaudit("merge", str(tmp_path / "bad.json"), str(scans["s2"]))
    assert_one_line_error(run, 2, "bad.json", *needles)


def test_unreadable_or_non_json_report_is_aassert_one_line_error(tmp_path) -> None:
    (tmp_path / "notes.json").write_text("NOT READY\n", encoding="utf-8")
    assert_one_line_error(prodaudit("merge", str(tmp_path / "notes.json")), 2, "notes.json", "not JSON")
    assert_one_line_error(prodaudit("merge", str(tmp_path / "missing.json")), 2, "missing.json")


@pytest.mark.parametrize("shard", ["3/2", "0/2", "1/0", "a/b", "2", "-1/2"])
def test_bad_shard_is_aassert_one_line_error(shard, tmp_path) -> None:
    root = make_repo(tmp_path / "repo", {"app.py": CLEAN})
    assert_one_line_error(prodaudit("scan", f"--shard={shard}", cwd=root), 2, "--shard")


def test_shard_assignment_is_stable_across_processes() -> None:
    """A hash of the path alone (not Python's salted hash()): every CI runner agrees on the slices."""
    paths = [f"pkg{i % 7}/module_{i}.py" for i in range(400)]
    code = "import json,sys; from prodaudit.scan import in_shard; print(json.dumps([[in_shard(p,(k,4)) for k in (1,2,3,4)] for p in json.load(sys.stdin)]))"
    outputs = []
    for seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", code], input=json.dumps(paths), capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.append(json.loads(proc.stdout))
    assert outputs[0] == outputs[1]
    assert all(sum(row) == 1 for row in outputs[0])  # exactly one shard per file
    sizes = [sum(row[k] for row in outputs[0]) for k in range(4)]
    assert min(sizes) > 60, sizes  # roughly balanced (expected 100 each)
