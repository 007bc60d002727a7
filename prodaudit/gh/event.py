"""What the triggering event says: the diff base to gate against and the pull request to comment on.

The runner writes the webhook payload to `GITHUB_EVENT_PATH` and names it in `GITHUB_EVENT_NAME`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PR_EVENTS = frozenset({"pull_request", "pull_request_target"})


@dataclass(frozen=True)
class EventContext:
    name: str
    diff_base: str | None  # None: a full scan
    pr_number: int | None  # None: nowhere to comment
    fork: bool  # a PR from another repository: its token cannot write


def load_payload(path: str | None) -> dict[str, Any]:
    """The event payload, or {} when the runner gave none (a local run)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}


def _get(payload: Mapping[str, Any], *keys: str) -> Any:
    value: Any = payload
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def context(event_name: str, payload: Mapping[str, Any], explicit_base: str = "") -> EventContext:
    """An explicit base (the action's `diff-base` input) wins; push and workflow_dispatch scan everything."""
    pr_number = None
    fork = False
    base = None
    if event_name in PR_EVENTS:
        base = _get(payload, "pull_request", "base", "sha")
        number = _get(payload, "pull_request", "number") or payload.get("number")
        pr_number = number if isinstance(number, int) and not isinstance(number, bool) else None
        head_repo = _get(payload, "pull_request", "head", "repo", "full_name")
        base_repo = _get(payload, "pull_request", "base", "repo", "full_name")
        fork = bool(head_repo and base_repo and head_repo != base_repo)
    elif event_name == "merge_group":
        base = _get(payload, "merge_group", "base_sha")
    explicit_base = explicit_base.strip()
    if explicit_base:
        base = explicit_base
    return EventContext(
        name=event_name,
        diff_base=base if isinstance(base, str) and base else None,
        pr_number=pr_number,
        fork=fork,
    )
