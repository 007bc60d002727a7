"""Gitignore-flavoured path globs: `*` stays within a folder, `**` crosses folders, and a pattern
without a leading `/` may match at any depth (`migrations/*.py` matches `app/migrations/0001.py`)."""

from __future__ import annotations

import functools
import re

from prodaudit.model import Rule, Target


@functools.lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/")
    pat = pattern.strip("/")
    out = []
    i = 0
    while i < len(pat):
        c = pat[i]
        if pat.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pat.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    # A pattern naming a folder also matches everything inside it.
    return re.compile(f"^{prefix}{body}(?:/.*)?$")


def matches(path: str, pattern: str) -> bool:
    return bool(_compile(pattern).match(path))


def matches_any(path: str, patterns: tuple[str, ...] | list[str]) -> bool:
    return any(matches(path, p) for p in patterns)


def rule_applies(rule: Rule, target: Target) -> bool:
    """Whether `rule` may report in `target`, by the rule's paths, its test-code flag and language."""
    if not rule.applies_to_tests and target.is_test:
        return False
    if rule.include and not matches_any(target.path, rule.include):
        return False
    if rule.exclude and matches_any(target.path, rule.exclude):
        return False
    return language_fits(rule, target)


def language_fits(rule: Rule, target: Target) -> bool:
    if "generic" in rule.languages:
        return True
    if target.language in rule.languages:
        return True
    # semgrep's typescript parser reads JavaScript too and the reverse.
    js = {"javascript", "typescript"}
    return target.language in js and bool(js & set(rule.languages))
