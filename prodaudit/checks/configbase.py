"""Shared pieces of the config-file checks: the hit type, the "cannot read this file" signal, and
YAML read as node trees, so every hit can point at a line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import yaml

# (line, column, end_line, end_column, message); 1-based, end column exclusive.
Hit = tuple[int, int, int, int, str]
ConfigCheck = Callable[[str, str], list[Hit]]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigUnparseable(Exception):
    """The file cannot be read as its format (the engine skips it as `unparseable`, visibly)."""


@lru_cache(maxsize=16)
def yaml_documents(text: str) -> tuple[yaml.Node, ...]:
    """Every document of a (multi-document) YAML file as node trees. Cached: several checks read
    the same file one after another."""
    if "{{" in text and "}}" in text:
        raise ConfigUnparseable("a Helm/Go template; render it (helm template) and scan the output")
    try:
        return tuple(doc for doc in yaml.compose_all(text, Loader=_Loader) if doc is not None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ConfigUnparseable(f"{where}{getattr(exc, 'problem', None) or exc}") from None


def get(node: yaml.Node | None, *keys: str) -> yaml.Node | None:
    """The value at a path of mapping keys, or None."""
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return None
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                node = v
                break
        else:
            return None
    return node


def key_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The key node itself (for its position)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k
    return None


def scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def items(node: yaml.Node | None) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        yield from node.value


def is_set(node: yaml.Node | None) -> bool:
    """Present and not null or empty."""
    if node is None:
        return False
    if isinstance(node, yaml.ScalarNode):
        return node.tag != "tag:yaml.org,2002:null" and node.value not in ("", "~", "null")
    return bool(node.value)


def span(node: yaml.Node) -> tuple[int, int, int, int]:
    start, end = node.start_mark, node.end_mark
    return start.line + 1, start.column + 1, end.line + 1, end.column + 1
