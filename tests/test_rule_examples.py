"""Every example of every rule, through the real engines, in one batch scan."""

import pytest

from prodaudit.catalog import load_catalog
from prodaudit.devtools import run_examples

RULES = load_catalog()


@pytest.fixture(scope="session")
def example_failures(tmp_path_factory):
    return run_examples(RULES, tmp_path_factory.mktemp("examples"))


@pytest.mark.parametrize("rule_id", [r.id for r in RULES])
def test_rule_examples(rule_id, example_failures):
    assert example_failures[rule_id] == []


def test_every_rule_has_two_kinds_of_examples():
    for rule in RULES:
        kinds = [e.kind for e in rule.examples]
        assert "bad" in kinds and "good" in kinds, rule.id
