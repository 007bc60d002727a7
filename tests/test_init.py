from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from prodaudit.config import Config, load_config
from prodaudit.errors import UsageError
from prodaudit.init import choose_strictness, render_config, run_init
from prodaudit.model import Launch, Strictness


class _Tty:
    """A real pseudo-terminal: stdin for run_init is its slave end; answers are typed into the master."""

    def __init__(self, typed: str):
        self.master, slave = os.openpty()
        os.write(self.master, typed.encode())
        self.stdin = os.fdopen(slave, "r")

    def close(self) -> None:
        self.stdin.close()
        os.close(self.master)


def _init(root: Path, answers: dict | None = None, force: bool = False, stdin=None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_init(root, answers, force, stdin if stdin is not None else io.StringIO(""), out)
    return code, out.getvalue()


def test_without_tty_or_flags_uses_defaults_and_says_so(tmp_path):
    code, out = _init(tmp_path)
    assert code == 0
    assert "no terminal to ask on" in out and "using the defaults (launch public, strictness high)" in out
    config, source = load_config(tmp_path, None)
    assert source == ".prodaudit.yml"
    assert config.launch is Launch.PUBLIC and config.effective_strictness() is Strictness.HIGH


def test_flags_written_config_loads(tmp_path):
    code, out = _init(tmp_path, {"launch": "internal", "yes": True})
    assert code == 0 and "launch internal, strictness low" in out
    config, _ = load_config(tmp_path, None)
    assert (config.launch, config.strictness) == (Launch.INTERNAL, Strictness.LOW)
    # Everything else is at its default, so the file states the defaults faithfully.
    assert config.model_dump(exclude={"launch", "strictness"}) == Config().model_dump(exclude={"launch", "strictness"})
    _, _ = _init(tmp_path, {"launch": "paid", "strictness": "medium"}, force=True)
    config, _ = load_config(tmp_path, None)
    assert (config.launch, config.strictness) == (Launch.PAID, Strictness.MEDIUM)


def test_refuses_to_overwrite_without_force(tmp_path):
    existing = tmp_path / ".prodaudit.yml"
    existing.write_text("launch: beta\n")
    with pytest.raises(UsageError, match="already exists .*--force"):
        _init(tmp_path, {"launch": "paid"})
    assert existing.read_text() == "launch: beta\n"
    (tmp_path / ".prodaudit.yml").unlink()
    (tmp_path / ".prodaudit.yaml").write_text("launch: beta\n")
    with pytest.raises(UsageError, match="prodaudit.yaml already exists"):
        _init(tmp_path, {"launch": "paid"})


def test_force_overwrites_in_place_and_leaves_no_temp_files(tmp_path):
    (tmp_path / ".prodaudit.yaml").write_text("launch: beta\n")
    code, _ = _init(tmp_path, {"launch": "paid"}, force=True)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".prodaudit.yaml"]
    assert load_config(tmp_path, None)[0].launch is Launch.PAID


def test_interactive_questions_on_a_tty(tmp_path):
    tty = _Tty("2\nlost or\n\n")  # beta; cost by prefix; default tolerance (medium)
    try:
        code, out = _init(tmp_path, stdin=tty.stdin)
    finally:
        tty.close()
    assert code == 0
    assert "What kind of launch is this?" in out and "what would it cost?" in out and "How much risk" in out
    config, _ = load_config(tmp_path, None)
    # Beta defaults to medium, but leaked customer data sets a floor of high.
    assert (config.launch, config.strictness) == (Launch.BETA, Strictness.HIGH)
    assert "failure would cost: lost or leaked customer data" in (tmp_path / ".prodaudit.yml").read_text()


def test_interactive_reasks_after_a_bad_answer(tmp_path):
    tty = _Tty("galactic\ninternal\n1\nhigh\n")
    try:
        _, out = _init(tmp_path, stdin=tty.stdin)
    finally:
        tty.close()
    assert "please answer 1-4" in out
    config, _ = load_config(tmp_path, None)
    assert (config.launch, config.strictness) == (Launch.INTERNAL, Strictness.LOW)


def test_interactive_end_of_input_cancels_without_writing(tmp_path):
    tty = _Tty("\x04")  # Ctrl-D: end of input on a terminal
    try:
        with pytest.raises(UsageError, match="init cancelled"):
            _init(tmp_path, stdin=tty.stdin)
    finally:
        tty.close()
    assert not (tmp_path / ".prodaudit.yml").exists()


def test_flags_skip_the_questions_on_a_tty(tmp_path):
    tty = _Tty("1\n1\n1\n")  # would be read if the questions were asked
    try:
        code, out = _init(tmp_path, {"launch": "beta", "strictness": "low"}, stdin=tty.stdin)
    finally:
        tty.close()
    assert code == 0 and "?" not in out
    config, _ = load_config(tmp_path, None)
    assert (config.launch, config.strictness) == (Launch.BETA, Strictness.LOW)


def test_bad_flag_value(tmp_path):
    with pytest.raises(UsageError, match="--launch: must be one of internal, beta, public, paid"):
        _init(tmp_path, {"launch": "publc"})
    assert not (tmp_path / ".prodaudit.yml").exists()


@pytest.mark.parametrize(
    ("launch", "cost", "tolerance", "expected"),
    [
        (Launch.PUBLIC, None, None, Strictness.HIGH),
        (Launch.INTERNAL, "annoyance", "high", Strictness.LOW),
        (Launch.INTERNAL, "annoyance", "low", Strictness.MEDIUM),
        (Launch.INTERNAL, "lost revenue", "high", Strictness.MEDIUM),
        (Launch.BETA, "annoyance", "high", Strictness.LOW),
        (Launch.PUBLIC, "annoyance", "high", Strictness.MEDIUM),
        (Launch.PAID, "lost or leaked customer data", "high", Strictness.HIGH),
    ],
)
def test_choose_strictness(launch, cost, tolerance, expected):
    assert choose_strictness(launch, cost, tolerance) is expected


def test_rendered_file_explains_every_key():
    text = render_config(Launch.PUBLIC, Strictness.HIGH)
    for key in Config.model_fields:
        assert f"\n{key}:" in text or f"\n# {key}:" in text, key
    for key in Config.model_fields["explain"].annotation.model_fields:
        assert f"\n  {key}:" in text, key
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line and not line.startswith(("#", " ")):
            assert lines[i - 1].startswith("#"), f"no comment above: {line}"
