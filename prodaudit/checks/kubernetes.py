"""Kubernetes manifest checks: what a serving container's spec leaves out.

Only complete workload objects are judged. Kustomize patches repeat `kind: Deployment` with a
fragment of a container, so a workload without `spec.selector` (required in apps/v1) and a
container without `image` are treated as fragments and left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import yaml

from prodaudit.checks.configbase import Hit, get, is_set, items, key_node, scalar, span, yaml_documents

# kind -> (API group prefix, path from the object to its pod spec)
_WORKLOADS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Deployment": ("apps/", ("spec", "template", "spec")),
    "StatefulSet": ("apps/", ("spec", "template", "spec")),
    "DaemonSet": ("apps/", ("spec", "template", "spec")),
    "ReplicaSet": ("apps/", ("spec", "template", "spec")),
    "Job": ("batch/", ("spec", "template", "spec")),
    "CronJob": ("batch/", ("spec", "jobTemplate", "spec", "template", "spec")),
}
_SERVING = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


@dataclass(frozen=True)
class Container:
    kind: str  # the workload's kind
    workload: str  # the workload's metadata.name
    name: str
    node: yaml.MappingNode

    @property
    def label(self) -> str:
        return f"container '{self.name}' of {self.kind} '{self.workload}'"

    def anchor(self) -> tuple[int, int, int, int]:
        """Where to report: the container's `name:` entry (short and stable), else the container."""
        key = key_node(self.node, "name")
        value = get(self.node, "name")
        if key is not None and value is not None:
            start, _, _, _ = span(key)
            _, _, end_line, end_col = span(value)
            return start, key.start_mark.column + 1, end_line, end_col
        return span(self.node)


def _objects(doc: yaml.Node) -> Iterator[yaml.Node]:
    if scalar(get(doc, "kind")) == "List":
        for item in items(get(doc, "items")):
            yield item
    else:
        yield doc


def containers(text: str, kinds: set[str] | None = None) -> Iterator[Container]:
    """The app containers (not init containers) of every complete workload object in the file."""
    for doc in yaml_documents(text):
        for obj in _objects(doc):
            kind = scalar(get(obj, "kind")) or ""
            if kind not in _WORKLOADS or (kinds is not None and kind not in kinds):
                continue
            group, pod_path = _WORKLOADS[kind]
            if not (scalar(get(obj, "apiVersion")) or "").startswith(group):
                continue
            if kind in _SERVING and get(obj, "spec", "selector") is None:
                continue  # a patch fragment, not a whole object
            workload = scalar(get(obj, "metadata", "name")) or "?"
            for node in items(get(obj, *pod_path, "containers")):
                if isinstance(node, yaml.MappingNode) and is_set(get(node, "image")):
                    yield Container(kind, workload, scalar(get(node, "name")) or "?", node)


def _missing_probe(text: str, probe: str, consequence: str) -> list[Hit]:
    # Without ports the container serves no traffic a probe would gate.
    return [
        (*c.anchor(), f"{c.label} has no {probe}: {consequence}")
        for c in containers(text, _SERVING)
        if is_set(get(c.node, "ports")) and not is_set(get(c.node, probe))
    ]


def missing_readiness_probe(text: str, path: str) -> list[Hit]:
    return _missing_probe(
        text, "readinessProbe",
        "during a rollout it receives traffic before it can serve, and old pods are removed before new ones work.",
    )


def missing_liveness_probe(text: str, path: str) -> list[Hit]:
    return _missing_probe(text, "livenessProbe", "a hung process keeps its pod in service until someone restarts it.")


def missing_resources(text: str, path: str) -> list[Hit]:
    hits = []
    for c in containers(text):
        resources = get(c.node, "resources")
        missing = []
        if not is_set(get(resources, "limits", "memory")):
            missing.append("memory limit")
        # Kubernetes copies a limit into a missing request, so a CPU limit also sets the request.
        if not (is_set(get(resources, "requests", "cpu")) or is_set(get(resources, "limits", "cpu"))):
            missing.append("CPU request")
        if missing:
            hits.append(
                (*c.anchor(), f"{c.label} has no {' and no '.join(missing)}: it can starve or be "
                 "OOM-killed with its neighbours, and the scheduler cannot place it reliably.")
            )
    return hits
