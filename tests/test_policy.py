import itertools

import pytest

from prodaudit.model import Category, Confidence, Launch, Phase, Severity, Strictness
from prodaudit.policy import cap_low_confidence, default_category

S, F, A = Category.STOP_SHIP, Category.FIX_SOON, Category.ACCEPTABLE_RISK


@pytest.mark.parametrize(
    ("strictness", "severity", "confidence", "expected"),
    [
        ("high", "critical", "high", S),
        ("high", "critical", "medium", S),
        ("high", "critical", "low", F),
        ("high", "high", "high", S),
        ("high", "high", "medium", F),
        ("high", "medium", "high", F),
        ("high", "low", "high", A),
        ("medium", "critical", "medium", S),
        ("medium", "critical", "low", F),
        ("medium", "high", "high", F),
        ("medium", "medium", "high", F),
        ("medium", "low", "high", A),
        ("low", "critical", "high", S),
        ("low", "critical", "medium", F),
        ("low", "high", "high", F),
        ("low", "medium", "high", A),
        ("low", "low", "high", A),
    ],
)
def test_policy_table(strictness, severity, confidence, expected):
    got = default_category(Severity(severity), Confidence(confidence), Strictness(strictness), Launch.PUBLIC, Phase.RELIABILITY)
    assert got is expected


def test_low_confidence_never_stop_ship_by_default():
    for sev, strict, launch, phase in itertools.product(Severity, Strictness, Launch, Phase):
        assert default_category(sev, Confidence.LOW, strict, launch, phase) is not S


def test_paid_escalates_security_and_data_only():
    args = (Severity.HIGH, Confidence.MEDIUM, Strictness.HIGH)
    assert default_category(*args, Launch.PAID, Phase.SECURITY) is S
    assert default_category(*args, Launch.PAID, Phase.DATA_SAFETY) is S
    assert default_category(*args, Launch.PAID, Phase.PERFORMANCE) is F
    assert default_category(*args, Launch.PUBLIC, Phase.SECURITY) is F


def test_cap_low_confidence():
    assert cap_low_confidence(S, Confidence.LOW) is F
    assert cap_low_confidence(S, Confidence.MEDIUM) is S
