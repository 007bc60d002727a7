"""Realistic Rule / Finding / ScanReport values for renderer tests.

The rules here are written for the tests and do not come from the catalog, so the renderer
snapshots do not change whenever someone edits a rule file.
"""

from __future__ import annotations

import hashlib

from prodaudit.model import (
    Category,
    Confidence,
    EngineError,
    Example,
    Finding,
    Launch,
    Phase,
    Rule,
    Severity,
    Skipped,
    Status,
    Strictness,
    Suppression,
)
from prodaudit.policy import cap_low_confidence, default_category
from prodaudit.report import ScanReport

ENGINE_VERSIONS = {"bandit": "1.9.4", "libcst": "1.9.0", "semgrep": "1.185.0"}
GENERATED_AT = "2026-11-26T13:47:05Z"


def make_rule(
    rule_id: str,
    name: str,
    phase: Phase,
    severity: Severity,
    confidence: Confidence,
    *,
    title: str | None = None,
    why: str = "What goes wrong in production when this code ships as it is.",
    fix: str = "Do the safe thing instead.",
    cwe: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
    engine: str = "semgrep",
    languages: tuple[str, ...] = ("python",),
    examples: tuple[Example, ...] = (),
) -> Rule:
    return Rule(
        id=rule_id,
        name=name,
        phase=phase,
        severity=severity,
        confidence=confidence,
        title=title or name.replace("-", " ").capitalize(),
        why=why,
        fix=fix,
        engine=engine,
        languages=languages,
        cwe=cwe,
        references=references,
        examples=examples,
        source=f"rules/{phase.value}/{rule_id}-{name}.yml",
    )


def fingerprint_for(rule_id: str, path: str, snippet: str, occurrence: int = 0) -> str:
    """Shaped like the real fingerprint (DESIGN §1.5): no line numbers in it."""
    text = " ".join(snippet.split())
    return hashlib.sha256(f"{rule_id}\0{path}\0{text}\0{occurrence}".encode()).hexdigest()[:32]


def make_finding(
    rule: Rule,
    path: str,
    line: int,
    column: int = 1,
    *,
    snippet: str = "",
    message: str | None = None,
    end_line: int | None = None,
    category: Category | None = None,
    status: Status = Status.OPEN,
    suppression: Suppression | None = None,
    new: bool | None = None,
    explanation: str | None = None,
    launch: Launch = Launch.PUBLIC,
    strictness: Strictness = Strictness.HIGH,
    occurrence: int = 0,
) -> Finding:
    if category is None:
        category = cap_low_confidence(
            default_category(rule.severity, rule.confidence, strictness, launch, rule.phase), rule.confidence
        )
    if end_line is None:
        end_line = line + max(0, len(snippet.splitlines()) - 1)
    return Finding(
        rule_id=rule.id,
        rule_name=rule.name,
        phase=rule.phase,
        category=category,
        severity=rule.severity,
        confidence=rule.confidence,
        path=path,
        line=line,
        end_line=end_line,
        column=column,
        message=message or rule.title,
        fix=rule.fix,
        cwe=rule.cwe,
        engine=rule.engine if rule.engine != "builtin" else "prodaudit",
        fingerprint=fingerprint_for(rule.id, path, snippet, occurrence),
        status=status,
        suppression=suppression,
        new=new,
        explanation=explanation,
        snippet=snippet,
    )


def make_report(
    findings: list[Finding] | tuple[Finding, ...],
    rules: list[Rule] | tuple[Rule, ...],
    *,
    errors: tuple[EngineError, ...] = (),
    skipped: tuple[Skipped, ...] = (),
    files_scanned: int = 0,
    launch: Launch = Launch.PUBLIC,
    strictness: Strictness = Strictness.HIGH,
    files_changed: int | None = None,
    notes: tuple[str, ...] = (),
) -> ScanReport:
    return ScanReport(
        tool_version="0.1.0",
        engine_versions=dict(ENGINE_VERSIONS),
        launch=launch,
        strictness=strictness,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key)),
        errors=errors,
        skipped=skipped,
        rules={r.id: r for r in rules},
        files_scanned=files_scanned,
        generated_at=GENERATED_AT,
        files_changed=files_changed,
        notes=notes,
    )


# --- the sample project ------------------------------------------------------------------

SEC001 = make_rule(
    "SEC001",
    "jwt-signature-not-verified",
    Phase.SECURITY,
    Severity.CRITICAL,
    Confidence.HIGH,
    title="JWT decoded without verifying its signature",
    why=(
        "A token whose signature is not checked can be forged by anyone: change the user id or the\n"
        "role in the payload and the application believes it."
    ),
    fix=(
        'Verify the signature with the expected key and an explicit algorithm list:\n'
        '`jwt.decode(token, key, algorithms=["HS256"])`.'
    ),
    cwe=("CWE-347",),
    references=("https://pyjwt.readthedocs.io/en/stable/usage.html", "https://cwe.mitre.org/data/definitions/347.html"),
    examples=(
        Example("bad", 'claims = jwt.decode(token, options={"verify_signature": False})  # expect\n', "example.py"),
        Example("good", 'claims = jwt.decode(token, key, algorithms=["HS256"])\n', "example.py"),
    ),
)
SEC004 = make_rule(
    "SEC004",
    "sql-built-from-strings",
    Phase.SECURITY,
    Severity.HIGH,
    Confidence.HIGH,
    title="SQL query built by string formatting",
    why="User input formatted into SQL lets an attacker read or change any row the database user can reach.",
    fix="Pass values as query parameters: `cursor.execute(\"... WHERE id = %s\", [user_id])`.",
    cwe=("CWE-89",),
    references=("https://owasp.org/www-community/attacks/SQL_Injection",),
)
DATA002 = make_rule(
    "DATA002",
    "migration-drops-column",
    Phase.DATA_SAFETY,
    Severity.HIGH,
    Confidence.MEDIUM,
    title="Migration drops a column in the same release that stops using it",
    why="Old application servers still read the column during a rolling deploy and crash until they are replaced.",
    fix="Stop reading the column in one release and drop it in a later one (expand, then contract).",
    engine="cst",
)
REL003 = make_rule(
    "REL003",
    "exception-swallowed",
    Phase.RELIABILITY,
    Severity.MEDIUM,
    Confidence.HIGH,
    title="Exception caught and silently discarded",
    why="A failure that is swallowed leaves the system in a half-done state nobody is told about.",
    fix="Log the exception with its traceback and re-raise, or handle the specific error you expect.",
    cwe=("CWE-390",),
    engine="cst",
)
OBS001 = make_rule(
    "OBS001",
    "print-instead-of-logging",
    Phase.OBSERVABILITY,
    Severity.LOW,
    Confidence.HIGH,
    title="print() used instead of the logger",
    why="print output has no level, no timestamp and no request id, and is often dropped by the process manager.",
    fix="Use `logging.getLogger(__name__)` and log at the right level.",
    engine="cst",
)
PERF001 = make_rule(
    "PERF001",
    "http-call-without-timeout",
    Phase.PERFORMANCE,
    Severity.MEDIUM,
    Confidence.HIGH,
    title="HTTP request without a timeout",
    why="Without a timeout, one slow upstream holds a worker forever and the whole service stalls.",
    fix="Pass `timeout=(3.05, 27)` or a value that fits the call.",
    cwe=("CWE-400",),
    references=("https://requests.readthedocs.io/en/latest/user/advanced/#timeouts",),
)
OPS001 = make_rule(
    "OPS001",
    "container-runs-as-root",
    Phase.OPERATIONS,
    Severity.MEDIUM,
    Confidence.MEDIUM,
    title="Container runs as root",
    why="A process escaping the application runs as root inside the container.",
    fix="Add a `USER` instruction with an unprivileged user.",
    engine="config",
    languages=("dockerfile",),
)
SAMPLE_RULES = (SEC001, SEC004, DATA002, REL003, OBS001, PERF001, OPS001)


def sample_findings() -> list[Finding]:
    return [
        make_finding(
            SEC001,
            "app/auth/tokens.py",
            42,
            14,
            snippet='    claims = jwt.decode(token, options={"verify_signature": False})',
            message="The JWT's signature is not verified, so its claims can be forged.",
            explanation="Anyone can mint an admin token for /api/admin because `current_user` trusts `sub`.",
        ),
        make_finding(
            SEC004,
            "app/reports/queries.py",
            17,
            5,
            snippet=(
                '    cursor.execute(\n'
                '        f"SELECT * FROM orders WHERE customer = \'{customer}\'"\n'
                '    )'
            ),
            message="SQL built with an f-string from `customer`; use query parameters.",
        ),
        make_finding(
            SEC004,
            "app/admin/export.py",
            88,
            9,
            snippet='        cursor.execute("DELETE FROM audit WHERE day < %s" % cutoff)',
            message="SQL built with % formatting; use query parameters.",
            status=Status.SUPPRESSED,
            suppression=Suppression(reason="cutoff is a date computed server-side", expires="2027-01-31"),
        ),
        make_finding(
            DATA002,
            "app/migrations/0042_drop_legacy_email.py",
            12,
            9,
            snippet='        migrations.RemoveField(model_name="user", name="legacy_email"),',
            message="Column user.legacy_email is dropped while the previous release still reads it.",
        ),
        make_finding(
            REL003,
            "app/payments/webhooks.py",
            63,
            5,
            snippet="    except Exception:\n        pass",
            message="`except Exception: pass` hides every failure | including refunds that never happen.",
        ),
        make_finding(
            REL003,
            "app/payments/sync.py",
            30,
            9,
            snippet="        except Exception:\n            pass",
            message="`except Exception: pass` hides every failure.",
            status=Status.BASELINED,
        ),
        make_finding(
            OBS001,
            "app/cli.py",
            7,
            5,
            snippet='    print("starting worker", worker_id)',
            message="print() used instead of the logger.",
        ),
        make_finding(
            PERF001,
            "app/payments/client.py",
            21,
            13,
            snippet="\tresponse = requests.post(url, json=payload)",
            message="requests.post without a timeout.",
        ),
    ]


def sample_report() -> ScanReport:
    """Several phases, all three categories, a suppressed and a baselined finding, an engine
    error and skipped files: exercises every part of every renderer."""
    return make_report(
        sample_findings(),
        SAMPLE_RULES,
        errors=(EngineError(engine="semgrep", message="timed out after 300 s", path="app/vendor/huge_table.py"),),
        skipped=(
            Skipped(path="static/logo.png", reason="binary"),
            Skipped(path="data/dump.sql", reason="too-large", detail="14.2 MB > 5 MB limit"),
            Skipped(path="app/legacy/py2_module.py", reason="unparseable", detail="line 3: print statement"),
            Skipped(path="app/templates/macros.py", reason="unparseable", engine="bandit", detail="syntax error"),
        ),
        files_scanned=118,
    )


def clean_report() -> ScanReport:
    """Nothing found, scan complete: READY."""
    return make_report([], SAMPLE_RULES, files_scanned=40)


def many_findings_report(count: int) -> ScanReport:
    """`count` open findings spread over the three categories (for size caps)."""
    findings = []
    rules = (SEC001, REL003, OBS001)
    for i in range(count):
        rule = rules[i % 3]
        findings.append(
            make_finding(
                rule,
                f"app/module_{i // 10:04d}.py",
                10 + i % 10,
                5,
                snippet=f"    value_{i} = call_{i}()",
                message=f"{rule.title} (occurrence {i}).",
                occurrence=i,
            )
        )
    return make_report(findings, rules, files_scanned=count // 10 + 1)
