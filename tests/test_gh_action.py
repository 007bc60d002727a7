"""The action's scripts (`python -m prodaudit.gh ...`) run as a runner runs them: environment
variables, an event payload file, `$GITHUB_OUTPUT`, and a GitHub REST API, here a real HTTP server
on 127.0.0.1 that keeps issue comments and records every request."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from builders import SAMPLE_RULES, clean_report, make_report, sample_findings, sample_report

from prodaudit.report import json_report, markdown
from prodaudit.report.markdown import COMMENT_MARKER

REPO = "acme/shop"
PR = 42
BASE_SHA = "9f2c1e0b7d6a5c4b3a29180706f5e4d3c2b1a090"
MERGE_BASE_SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
COMMENTS_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
COMMENT_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")


class FakeGitHub:
    """Issue comments of one repository, with pagination (2 per page) and an optional forced status."""

    def __init__(self) -> None:
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.force_status: int | None = None
        self.auth: list[str | None] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

            def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                return json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _route(self, method: str) -> None:
                api.requests.append((method, self.path))
                api.auth.append(self.headers.get("Authorization"))
                if api.force_status:
                    self._send(api.force_status, {"message": "Resource not accessible by integration"})
                    return
                path, _, query = self.path.partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                many = COMMENTS_PATH.match(path)
                one = COMMENT_PATH.match(path)
                if many and f"{many[1]}/{many[2]}" == REPO and method == "GET":
                    page = int(params.get("page", "1"))
                    chunk = api.comments[(page - 1) * 2 : page * 2]
                    headers = {}
                    if page * 2 < len(api.comments):
                        host = f"http://{self.headers['Host']}"
                        headers["Link"] = f'<{host}{path}?per_page=2&page={page + 1}>; rel="next"'
                    self._send(200, chunk, headers)
                elif many and f"{many[1]}/{many[2]}" == REPO and method == "POST":
                    comment = {"id": 1000 + len(api.comments), "body": self._body()["body"], "issue": int(many[3])}
                    api.comments.append(comment)
                    self._send(201, comment)
                elif one and method == "PATCH":
                    for comment in api.comments:
                        if comment["id"] == int(one[3]):
                            comment["body"] = self._body()["body"]
                            self._send(200, comment)
                            return
                    self._send(404, {"message": "Not Found"})
                else:
                    self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

        return Handler


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pull_request_event(number: int = PR, head_repo: str = REPO) -> dict:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"sha": BASE_SHA, "ref": "main", "repo": {"full_name": REPO}},
            "head": {"sha": "b" * 40, "ref": "feature", "repo": {"full_name": head_repo}},
        },
        "repository": {"full_name": REPO},
    }


EVENTS = {
    "pull_request": pull_request_event(),
    "pull_request_target": pull_request_event(),
    "merge_group": {"action": "checks_requested", "merge_group": {"base_sha": MERGE_BASE_SHA, "head_sha": "c" * 40}},
    "push": {"ref": "refs/heads/main", "before": "d" * 40, "after": "e" * 40},
    "workflow_dispatch": {"ref": "refs/heads/main", "inputs": {}},
}


def runner_env(tmp_path: Path, event_name: str, payload: dict, api_url: str = "", **extra: str) -> dict[str, str]:
    event_path = tmp_path / f"{event_name}.json"
    event_path.write_text(json.dumps(payload), encoding="utf-8")
    for name in ("output", "summary"):
        (tmp_path / name).touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PRODAUDIT_"))}
    env.update(
        GITHUB_ACTIONS="true",
        GITHUB_EVENT_NAME=event_name,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_OUTPUT=str(tmp_path / "output"),
        GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
        GITHUB_API_URL=api_url or "http://127.0.0.1:9",
        GITHUB_TOKEN="ghs_test_token",
        GITHUB_REPOSITORY=REPO,
    )
    env.update(extra)
    return env


def gh(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prodaudit.gh", *args], env=env, capture_output=True, text=True, timeout=60
    )


def parse_outputs(text: str) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT: `name=value` and `name<<DELIM ... DELIM`."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            for inner in lines:
                if inner == delimiter:
                    break
                body.append(inner)
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def write_markdown(tmp_path: Path, report=None) -> Path:
    path = tmp_path / "report.md"
    path.write_text(markdown.render(report or make_report(sample_findings(), SAMPLE_RULES)), encoding="utf-8")
    return path


def write_json(tmp_path: Path, report) -> Path:
    path = tmp_path / "report.json"
    path.write_text(json_report.render(report), encoding="utf-8")
    return path


# --- event: the diff base per event -------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_name", "base", "pr"),
    [
        ("pull_request", BASE_SHA, str(PR)),
        ("pull_request_target", BASE_SHA, str(PR)),
        ("merge_group", MERGE_BASE_SHA, ""),
        ("push", "", ""),
        ("workflow_dispatch", "", ""),
    ],
)
def test_event_derives_the_diff_base(tmp_path: Path, event_name: str, base: str, pr: str) -> None:
    result = gh(runner_env(tmp_path, event_name, EVENTS[event_name]), "event")
    assert result.returncode == 0, result.stderr
    outputs = parse_outputs((tmp_path / "output").read_text())
    assert outputs == {"diff-base": base, "pr-number": pr, "fork": "false"}
    assert ("full scan" in result.stdout) == (base == "")


def test_explicit_diff_base_input_wins_and_forks_are_recognized(tmp_path: Path) -> None:
    env = runner_env(tmp_path, "pull_request", pull_request_event(head_repo="mallory/shop"), PRODAUDIT_DIFF_BASE="origin/release")
    assert gh(env, "event").returncode == 0
    assert parse_outputs((tmp_path / "output").read_text()) == {
        "diff-base": "origin/release",
        "pr-number": str(PR),
        "fork": "true",
    }


# --- comment: one comment, found again by its marker ---------------------------------------------


def test_first_run_creates_one_comment_and_second_run_updates_it(tmp_path: Path, github) -> None:
    fake, url = github
    # Someone else's comments come first, over more than one page.
    fake.comments = [{"id": i, "body": f"LGTM {i}", "issue": PR} for i in range(1, 4)]
    env = runner_env(tmp_path, "pull_request", EVENTS["pull_request"], url)
    report_md = write_markdown(tmp_path)

    first = gh(env, "comment", str(report_md))
    assert first.returncode == 0, first.stderr
    assert "comment created" in first.stdout
    posts = [r for r in fake.requests if r[0] == "POST"]
    assert posts == [("POST", f"/repos/{REPO}/issues/{PR}/comments")]
    ours = [c for c in fake.comments if c["body"].startswith(COMMENT_MARKER)]
    assert len(ours) == 1 and "NOT READY" in ours[0]["body"]
    assert set(fake.auth) == {"Bearer ghs_test_token"}

    fake.requests.clear()
    report_md.write_text(markdown.render(clean_report()), encoding="utf-8")
    second = gh(env, "comment", str(report_md))
    assert second.returncode == 0, second.stderr
    assert "comment updated" in second.stdout
    assert [m for m, _ in fake.requests if m != "GET"] == ["PATCH"]
    assert ("PATCH", f"/repos/{REPO}/issues/comments/{ours[0]['id']}") in fake.requests
    assert sum(1 for r in fake.requests if r[0] == "GET") == 2  # followed the Link header to page 2
    ours = [c for c in fake.comments if c["body"].startswith(COMMENT_MARKER)]
    assert len(ours) == 1 and "NOT READY" not in ours[0]["body"] and "READY" in ours[0]["body"]
    assert len(fake.comments) == 4


def test_forbidden_token_is_a_note_not_a_failure(tmp_path: Path, github) -> None:
    fake, url = github
    fake.force_status = 403
    env = runner_env(tmp_path, "pull_request", pull_request_event(head_repo="mallory/shop"), url)
    result = gh(env, "comment", str(write_markdown(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "PR comment skipped" in result.stdout and "403" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1
    assert "PR comment skipped" in (tmp_path / "summary").read_text()
    assert [m for m, _ in fake.requests] == ["GET"]


def test_a_server_error_fails_the_comment_step(tmp_path: Path, github) -> None:
    fake, url = github
    fake.force_status = 502
    result = gh(runner_env(tmp_path, "pull_request", EVENTS["pull_request"], url), "comment", str(write_markdown(tmp_path)))
    assert result.returncode == 1
    assert "::warning" in result.stdout and "502" in result.stdout


def test_no_comment_outside_a_pull_request(tmp_path: Path, github) -> None:
    fake, url = github
    result = gh(runner_env(tmp_path, "push", EVENTS["push"], url), "comment", str(write_markdown(tmp_path)))
    assert result.returncode == 0
    assert "not a pull request" in result.stdout
    assert fake.requests == []


# --- outputs and enforce -------------------------------------------------------------------------


def test_outputs_file_has_the_verdict_and_counts(tmp_path: Path) -> None:
    report = make_report(sample_findings(), SAMPLE_RULES)
    path = write_json(tmp_path, report)
    env = runner_env(tmp_path, "push", EVENTS["push"])
    result = gh(env, "outputs", str(path), "--sarif", "/r/report.sarif", "--markdown", "/r/report.md")
    assert result.returncode == 0, result.stderr
    data = json.loads(path.read_text())
    outputs = parse_outputs((tmp_path / "output").read_text())
    assert outputs == {
        "verdict": "NOT_READY",
        "stop-ship": str(data["summary"]["stop-ship"]),
        "fix-soon": str(data["summary"]["fix-soon"]),
        "acceptable-risk": str(data["summary"]["acceptable-risk"]),
        "json-report": str(path),
        "sarif-report": "/r/report.sarif",
        "markdown-report": "/r/report.md",
    }
    assert int(outputs["stop-ship"]) > 0


def test_multiline_output_uses_a_delimiter_the_value_cannot_forge(tmp_path: Path) -> None:
    from prodaudit.gh.outputs import write_outputs

    target = tmp_path / "output"
    write_outputs({"text": "line one\nverdict=READY\nline three", "plain": "x"}, str(target))
    assert parse_outputs(target.read_text()) == {"text": "line one\nverdict=READY\nline three", "plain": "x"}


@pytest.mark.parametrize(
    ("report", "scan_exit", "expected"),
    [
        (lambda: make_report(sample_findings(), SAMPLE_RULES), 0, 1),  # NOT_READY under --exit-zero
        (clean_report, 0, 0),
        (sample_report, 0, 3),  # engine errors in the report: incomplete
        (clean_report, 3, 3),
        (clean_report, 2, 2),
        (None, 2, 2),  # a config error writes no report
        (None, 0, 3),  # no report and no error: fail closed
        (clean_report, 137, 3),  # killed
    ],
)
def test_enforce_exits_with_the_gate(tmp_path: Path, report, scan_exit: int, expected: int) -> None:
    path = write_json(tmp_path, report()) if report else tmp_path / "missing.json"
    result = gh(runner_env(tmp_path, "push", EVENTS["push"]), "enforce", str(path), "--scan-exit", str(scan_exit))
    assert result.returncode == expected, result.stdout + result.stderr
    assert result.stdout.startswith("::error") == (expected != 0)


# --- the action's own steps, end to end ----------------------------------------------------------


def _expand(value: str, inputs: dict[str, str], step_outputs: dict[str, dict[str, str]]) -> str:
    """The few expression forms action.yml uses in `env:`: inputs.X, steps.S.outputs.X, github.token."""

    def one(match: re.Match[str]) -> str:
        expr = match[1].strip()
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr.startswith("steps."):
            step, _, name = expr.removeprefix("steps.").partition(".outputs.")
            return step_outputs.get(step, {}).get(name, "")
        if expr == "github.token":
            return "ghs_test_token"
        raise AssertionError(f"unexpected expression in action.yml env: {expr}")

    return re.sub(r"\$\{\{(.*?)\}\}", one, value)


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()


def test_action_steps_gate_a_pull_request_end_to_end(tmp_path: Path, github) -> None:
    """Runs every `run:` step of action.yml after the install (prodaudit is already installed
    here) with bash as the runner does, on a repository whose pull request adds a Stop-Ship finding."""
    import yaml

    fake, url = github
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app" / "auth.py").write_text("def current_user(token):\n    return None\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "app" / "auth.py").write_text(
        "import jwt\n\n\ndef current_user(token):\n"
        '    return jwt.decode(token, options={"verify_signature": False})["sub"]\n',
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "feature")

    runner = tmp_path / "runner"
    venv_bin = runner / "prodaudit-venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    (venv_bin / "python").chmod(0o755)
    (runner / "prodaudit").mkdir()

    payload = pull_request_event()
    payload["pull_request"]["base"]["sha"] = base
    env = runner_env(tmp_path, "pull_request", payload, url, RUNNER_TEMP=str(runner), GITHUB_WORKSPACE=str(repo))
    action = yaml.safe_load((Path(__file__).resolve().parent.parent / "action.yml").read_text(encoding="utf-8"))
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    step_outputs: dict[str, dict[str, str]] = {}
    logs: dict[str, subprocess.CompletedProcess[str]] = {}
    for step in action["runs"]["steps"]:
        if "run" not in step or step["name"].startswith("Install"):
            continue
        output_file = tmp_path / f"output-{len(logs)}"
        output_file.touch()
        step_env = {**env, "GITHUB_OUTPUT": str(output_file)}
        step_env.update({k: _expand(str(v), inputs, step_outputs) for k, v in step.get("env", {}).items()})
        assert "${{" not in step["run"], f"step {step['name']!r} splices an expression into its script"
        logs[step["name"]] = result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=repo, env=step_env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if "id" in step:
            step_outputs[step["id"]] = parse_outputs(output_file.read_text())
        if step["name"] != "Enforce the verdict":
            assert result.returncode == 0, (step["name"], result.stdout, result.stderr)

    assert step_outputs["event"]["diff-base"] == base
    assert step_outputs["scan"]["exit-code"] == "0"  # --exit-zero: the gate is the last step
    assert "::error " in logs["Scan"].stdout and "app/auth.py" in logs["Scan"].stdout
    assert step_outputs["outputs"]["verdict"] == "NOT_READY"
    assert step_outputs["outputs"]["stop-ship"] == "1"
    assert Path(step_outputs["outputs"]["sarif-report"]).exists()
    assert (tmp_path / "summary").read_text().startswith(COMMENT_MARKER)
    assert [m for m, _ in fake.requests] == ["GET", "POST"]
    assert fake.comments[0]["body"].startswith(COMMENT_MARKER)
    assert logs["Enforce the verdict"].returncode == 1
