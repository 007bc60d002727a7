"""Small text helpers shared by the renderers."""

from __future__ import annotations

import re

from prodaudit.model import Category
from prodaudit.report import CATEGORY_ORDER, ScanReport

LABEL = {Category.STOP_SHIP: "Stop-Ship", Category.FIX_SOON: "Fix-Soon", Category.ACCEPTABLE_RISK: "Acceptable-Risk"}
FIX_SUMMARY_MAX = 200
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts_text(report: ScanReport) -> str:
    """`2 Stop-Ship, 3 Fix-Soon, 1 Acceptable-Risk`"""
    return ", ".join(f"{report.count(c)} {LABEL[c]}" for c in CATEGORY_ORDER)


def fix_summary(text: str) -> str:
    """The fix on one line: its first paragraph, or that paragraph's first sentence when long.

    Rule files wrap prose at ~100 columns, so a plain first line often stops mid-sentence.
    """
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    if len(paragraph) <= FIX_SUMMARY_MAX:
        return paragraph
    sentence = _SENTENCE_END.split(paragraph, 1)[0]
    if len(sentence) <= FIX_SUMMARY_MAX:
        return sentence
    return sentence[: FIX_SUMMARY_MAX - 3].rstrip() + "..."
