"""Progress on stderr: a rich bar on a terminal, plain periodic lines elsewhere, nothing when quiet."""

from __future__ import annotations

import io

from triage.util import progress as progress_module
from triage.util.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_carry_count_rate_and_time_left(monkeypatch):
    clock = iter([0.0, 5.0, 12.0, 25.0, 30.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    out = io.StringIO()
    with Progress("triage run", stream=out) as show:
        for k, name in enumerate(["a.jpg", "b.jpg", "c\nforged summary.jpg", "d.jpg", "e.jpg"], 1):
            show(k, 5, name)
    lines = out.getvalue().splitlines()
    # the first call (no rate yet), then one at least 10 s after the one before, and the last
    assert lines == [
        "triage run [1/5] a.jpg",
        "triage run [3/5] 0.2/s, 0:08 left c\\nforged summary.jpg",  # 3 in 12 s: 0.25/s, 2 left
        "triage run [4/5] 0.2/s, 0:06 left d.jpg",
        "triage run [5/5] 0.2/s e.jpg",
    ]


def test_a_terminal_gets_a_bar_that_is_closed_however_the_job_ends():
    out = Terminal()
    try:
        with Progress("synth", stream=out) as show:
            show(1, 4)
            show(2, 4)
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    text = out.getvalue()
    assert "synth" in text and "2/4" in text
    assert "\x1b[?25h" in text  # the cursor shown again


def test_quiet_prints_nothing():
    out = Terminal()
    with Progress("train", enabled=False, stream=out) as show:
        for k in range(1, 4):
            show(k, 3)
    assert out.getvalue() == ""
