"""Dockerfile checks, on a small instruction reader that knows continuation lines, the `escape`
parser directive, comments inside continued instructions, and heredocs (whose bodies are not
instructions, even when a line in them starts with USER)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prodaudit.checks.configbase import Hit

_DIRECTIVE = re.compile(r"#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)\s*[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
_ROOT = {"root", "0"}
# Base images that already run as an unprivileged user.
_NONROOT_IMAGE = re.compile(r"(?:[:/-]nonroot\b)|^(?:[\w.-]+/)?bitnami/|^cgr\.dev/chainguard/(?!.*-dev\b)")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, USER, ...
    args: str
    line: int  # 1-based
    end_line: int
    end_column: int  # 1-based, exclusive, on end_line


def instructions(text: str) -> list[Instruction]:
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives come first, before any other line
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)
    out: list[Instruction] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start, parts = i, []
        while True:
            current = lines[i].rstrip()
            if not current.endswith(escape):
                parts.append(current)
                break
            parts.append(current[: -len(escape)])
            i += 1
            # Comment lines inside a continued instruction are dropped; blank ones too.
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
        end = min(i, len(lines) - 1)
        keyword, _, args = " ".join(p.strip() for p in parts).partition(" ")
        keyword = keyword.upper()
        i += 1
        if keyword in ("RUN", "COPY", "ADD"):
            for dash, delimiter in _HEREDOC.findall(args):
                while i < len(lines) and (lines[i].lstrip("\t") if dash else lines[i]).strip() != delimiter:
                    i += 1
                end = min(i, len(lines) - 1)
                i += 1
        out.append(Instruction(keyword, args.strip(), start + 1, end + 1, len(lines[end]) + 1))
    return out


@dataclass(frozen=True)
class _Stage:
    image: str
    alias: str
    start: Instruction
    user: Instruction | None  # the stage's last USER


def _stages(text: str) -> list[_Stage]:
    stages: list[_Stage] = []
    for ins in instructions(text):
        if ins.keyword == "FROM":
            tokens = [t for t in ins.args.split() if not t.startswith("--")]
            image = tokens[0] if tokens else ""
            alias = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else ""
            stages.append(_Stage(image, alias.lower(), ins, None))
        elif ins.keyword == "USER" and stages:
            last = stages[-1]
            stages[-1] = _Stage(last.image, last.alias, last.start, ins)
    return stages


def runs_as_root(text: str, path: str) -> list[Hit]:
    """The final stage (the image that ships) sets no USER, or sets root, so the process runs as root."""
    stages = _stages(text)
    if not stages:
        return []
    by_alias = {s.alias: s for s in stages if s.alias}
    stage, seen = stages[-1], set()
    # USER carries over from a stage the final one is built FROM.
    while stage.user is None and stage.image.lower() in by_alias and stage.image.lower() not in seen:
        seen.add(stage.image.lower())
        stage = by_alias[stage.image.lower()]
    final = stages[-1].start
    if stage.user is None:
        if _NONROOT_IMAGE.search(stage.image):
            return []
        return [(final.line, 1, final.end_line, final.end_column,
                 "The final image sets no USER, so the application runs as root: a compromise of the "
                 "process owns the whole container.")]
    name = stage.user.args.split()[0].split(":")[0] if stage.user.args.split() else ""
    if name.lower() in _ROOT:
        user = stage.user
        return [(user.line, 1, user.end_line, user.end_column,
                 f"USER {name} is the final user, so the application runs as root.")]
    return []
