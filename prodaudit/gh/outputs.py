"""Step outputs: `name=value` lines appended to the file named by `GITHUB_OUTPUT`.

A multi-line value uses the runner's heredoc form (`name<<DELIM ... DELIM`) with a random delimiter
that does not occur in the value, so a value can never end the block early and forge another output.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path


def format_output(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(values: Mapping[str, object], path: str | None = None) -> None:
    """Append to `$GITHUB_OUTPUT`; outside a runner (no variable) print them instead."""
    text = "".join(format_output(name, str(value)) for name, value in values.items())
    target = path if path is not None else os.environ.get("GITHUB_OUTPUT")
    if not target:
        print(text, end="")
        return
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(text)


def append_summary(markdown: str) -> None:
    """Append to `$GITHUB_STEP_SUMMARY` when the runner provides it."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
