"""The config engine and its Kubernetes and Dockerfile checks, on real files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from prodaudit.checks.config import CONFIG_CHECKS
from prodaudit.checks.dockerfile import instructions, runs_as_root
from prodaudit.checks.sql import drops_data
from prodaudit.engines.config_files import ConfigEngine
from prodaudit.engines.cst import validate_check_names
from prodaudit.errors import UsageError
from prodaudit.model import Confidence, Phase, Rule, Severity, Target

MANIFESTS = textwrap.dedent(
    """\
    apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {selector: {app: web}, ports: [{port: 80}]}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      selector: {matchLabels: {app: web}}
      template:
        spec:
          initContainers:
            - name: migrate
              image: web:1
          containers:
            - name: web
              image: web:1
              ports: [{containerPort: 8000}]
            - name: sidecar
              image: proxy:2
              ports: [{containerPort: 9000}]
              readinessProbe: {tcpSocket: {port: 9000}}
              resources: {requests: {cpu: 10m}, limits: {memory: 64Mi}}
    """
)


def make_rule(rule_id: str, check: str, languages: tuple[str, ...] = ("yaml",), prefilter: tuple[str, ...] = ()) -> Rule:
    return Rule(
        id=rule_id,
        name=rule_id.lower(),
        phase=Phase.OPERATIONS,
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        title="a test rule",
        why="why it matters in production",
        fix="what to do",
        engine="config",
        languages=languages,
        check=check,
        prefilter=prefilter,
        source="rules/operations/test.yml",
    )


def write(root: Path, rel: str, text: str, language: str) -> Target:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Target(rel, str(path), language)


def test_multi_document_manifest_reports_each_container_on_its_name_line(tmp_path):
    target = write(tmp_path, "k8s/web.yaml", MANIFESTS, "yaml")
    rules = [make_rule("OPS950", "k8s.missing_readiness_probe"), make_rule("OPS951", "k8s.missing_resources")]
    result = ConfigEngine().run(rules, [target], tmp_path, jobs=1)
    got = [(f.rule_id, f.line, f.column, f.end_line, f.end_column) for f in result.findings]
    # Only the app container `web` (line 18, `- name: web`); not the init container nor the sidecar.
    assert got == [("OPS950", 18, 11, 18, 20), ("OPS951", 18, 11, 18, 20)]
    assert "container 'web' of Deployment 'web'" in result.findings[0].message
    assert "memory limit and no CPU request" in result.findings[1].message
    assert result.errors == () and result.skipped == ()


def test_helm_template_and_broken_yaml_are_skipped_as_unparseable(tmp_path):
    helm = write(tmp_path, "chart/templates/deploy.yaml", "kind: Deployment\nreplicas: {{ .Values.replicas }}\n", "yaml")
    broken = write(tmp_path, "k8s/broken.yaml", "kind: Deployment\nspec: [unclosed\n", "yaml")
    result = ConfigEngine().run([make_rule("OPS950", "k8s.missing_readiness_probe")], [helm, broken], tmp_path, jobs=1)
    skipped = {s.path: s for s in result.skipped}
    assert set(skipped) == {"chart/templates/deploy.yaml", "k8s/broken.yaml"}
    assert all(s.reason == "unparseable" and s.engine == "config" for s in skipped.values())
    assert "helm template" in skipped["chart/templates/deploy.yaml"].detail
    assert skipped["k8s/broken.yaml"].detail.startswith("line ")
    assert result.findings == () and result.errors == ()


def test_prefilter_and_language_decide_which_files_a_check_sees(tmp_path):
    seen = []

    def recording(text: str, path: str) -> list:
        seen.append(path)
        return [(1, 1, 1, 2, "hit")]

    targets = [
        write(tmp_path, "a.yaml", "kind: Deployment\n", "yaml"),
        write(tmp_path, "b.yaml", "kind: Service\n", "yaml"),
        write(tmp_path, "Dockerfile", "FROM Deployment\n", "dockerfile"),
    ]
    engine = ConfigEngine(checks={"test.record": recording})
    result = engine.run([make_rule("OPS952", "test.record", prefilter=("Deployment",))], targets, tmp_path, jobs=1)
    assert seen == ["a.yaml"]
    assert [(f.rule_id, f.path, f.message, f.engine) for f in result.findings] == [("OPS952", "a.yaml", "hit", "config")]


def test_a_crashing_config_check_is_an_engine_error(tmp_path):
    def crashing(text: str, path: str) -> list:
        raise KeyError("spec")

    target = write(tmp_path, "a.yaml", "kind: Deployment\n", "yaml")
    result = ConfigEngine(checks={"test.crash": crashing}).run([make_rule("OPS953", "test.crash")], [target], tmp_path, jobs=1)
    (error,) = result.errors
    assert error.engine == "config" and error.path == "a.yaml" and "test.crash" in error.message


def test_kustomize_patch_and_job_are_not_judged_as_serving_workloads():
    containers = "    spec:\n      containers:\n        - name: web\n          image: web:2\n          ports: [{containerPort: 80}]\n"
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n" + containers
    assert CONFIG_CHECKS["k8s.missing_readiness_probe"](patch, "patch.yaml") == []
    job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n" + containers
    assert CONFIG_CHECKS["k8s.missing_readiness_probe"](job, "job.yaml") == []
    assert len(CONFIG_CHECKS["k8s.missing_resources"](job, "job.yaml")) == 1


def test_dockerfile_reader_handles_continuations_comments_escape_and_heredocs():
    text = textwrap.dedent(
        """\
        # syntax=docker/dockerfile:1
        FROM python:3.12 AS base
        RUN apt-get update \\
        # a comment inside the continued instruction
            && apt-get install -y curl
        COPY <<EOF /etc/motd
        USER root
        EOF
        user app
        """
    )
    got = [(i.keyword, i.args, i.line, i.end_line) for i in instructions(text)]
    assert got == [
        ("FROM", "python:3.12 AS base", 2, 2),
        ("RUN", "apt-get update && apt-get install -y curl", 3, 5),
        ("COPY", "<<EOF /etc/motd", 6, 8),
        ("USER", "app", 9, 9),
    ]
    backtick = "# escape=`\nFROM alpine:3.20\nRUN echo a `\n    b\nUSER nobody\n"
    assert [(i.keyword, i.args) for i in instructions(backtick)][1:] == [("RUN", "echo a b"), ("USER", "nobody")]
    assert runs_as_root(backtick, "Dockerfile") == []


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("FROM python:3.12\nCMD [\"app\"]\n", 1),
        ("FROM python:3.12 AS a\nUSER app\nFROM a\nUSER 0:0\n", 4),
        ("FROM python:3.12 AS a\nUSER app\nFROM python:3.12-slim\nCMD [\"app\"]\n", 3),
        ("FROM --platform=$BUILDPLATFORM golang:1.23 AS b\nFROM scratch\nCOPY --from=b /x /x\n", 2),
    ],
)
def test_dockerfile_running_as_root_is_reported_on_the_line_that_decides_it(text, line):
    (hit,) = runs_as_root(text, "Dockerfile")
    assert hit[0] == line


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12 AS a\nUSER app\nFROM a AS final\nCMD [\"app\"]\n",
        "FROM gcr.io/distroless/python3-debian12:nonroot\nCOPY . /app\n",
        "FROM cgr.dev/chainguard/python:latest\n",
        "FROM python:3.12\nUSER ${APP_UID}\n",
        "",
    ],
)
def test_dockerfile_with_an_unprivileged_final_user_is_clean(text):
    assert runs_as_root(text, "Dockerfile") == []


def test_unknown_config_check_is_a_rule_file_error():
    with pytest.raises(UsageError, match=r"key 'check': unknown check 'k8s.nope' \(known: .*k8s.missing_resources"):
        validate_check_names([make_rule("OPS954", "k8s.nope")])


def test_sql_reader_ignores_comments_strings_and_function_bodies():
    text = textwrap.dedent(
        """\
        /* DROP TABLE a; */ -- DROP TABLE b;
        CREATE FUNCTION purge() RETURNS void AS $body$
          BEGIN DROP TABLE c; END;
        $body$ LANGUAGE plpgsql;
        INSERT INTO notes VALUES ('it''s; DROP TABLE d;');
        ALTER TABLE "Orders" DROP COLUMN IF EXISTS "legacy", DROP c2, DROP CONSTRAINT k;
        """
    )
    (hit,) = drops_data(text, "db/migrations/0001.sql")
    assert hit[:2] == (6, 1) and hit[2] == 6
    assert hit[4] == "ALTER TABLE Orders drops column(s) legacy, c2 and all their data."


@pytest.mark.parametrize(
    "path", ["db/migrations/0002_x.down.sql", "migrations/2024-01-01-000000_x/down.sql", "db/migration/U2__undo.sql"]
)
def test_sql_down_migrations_may_drop(path):
    assert drops_data("DROP TABLE orders;\n", path) == []


def test_sql_down_section_and_tables_created_in_the_same_file_are_not_reported():
    text = "-- +goose Up\nCREATE TABLE tmp (id int);\nDROP TABLE tmp;\n-- +goose Down\nDROP TABLE orders;\n"
    assert drops_data(text, "db/migrations/0003.sql") == []
    assert [h[0] for h in drops_data("DROP TABLE tmp, orders;\n", "db/migrations/0004.sql")] == [1]


def test_sql_table_rebuild_that_copies_the_rows_first_is_not_data_loss():
    rebuild = (
        'CREATE TABLE "_users_tmp" (id TEXT PRIMARY KEY, email TEXT NOT NULL);\n'
        'INSERT INTO "_users_tmp" (id, email) SELECT id, email FROM "users";\n'
        'DROP TABLE "users";\n'
        'ALTER TABLE "_users_tmp" RENAME TO "users";\n'
    )
    assert drops_data(rebuild, "migrations/0005.sqlite3.up.sql") == []
    without_copy = rebuild.replace('SELECT id, email FROM "users"', "VALUES ('1', 'a@example.com')")
    assert [h[0] for h in drops_data(without_copy, "migrations/0005.sqlite3.up.sql")] == [3]


def test_sql_scratch_columns_and_columns_added_by_the_same_migration_are_not_data_loss():
    text = (
        "ALTER TABLE users ADD COLUMN email_lower TEXT;\n"
        "UPDATE users SET email_lower = lower(email);\n"
        "ALTER TABLE users DROP COLUMN email_lower, DROP COLUMN _nid_tmp;\n"
        "DROP TABLE users_tmp;\n"
        "ALTER TABLE users DROP COLUMN email;\n"
    )
    assert [(h[0], h[4]) for h in drops_data(text, "migrations/0006.up.sql")] == [
        (5, "ALTER TABLE users drops column(s) email and all their data.")
    ]
