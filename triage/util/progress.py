"""Progress of a long job on stderr, for run, report, synth, train, evaluate and retrain.

On a terminal: a `rich` bar with the count, the rate and the time left, redrawn at most
REFRESH_PER_S times a second. Elsewhere (a CI log, a file): one plain line every
PLAIN_INTERVAL_S seconds and the last, with the same figures, so a log stays readable. File
names shown beside the count have their control characters escaped: they cannot start a line
of their own. Used as a callback, progress(k, n, detail=""), inside `with` so that the bar is
closed (and the terminal's cursor given back) however the job ends.
"""

from __future__ import annotations

import sys
import time

from .text import printable

#: Redraws of the bar per second: smooth to the eye, negligible next to a photo's ~100 ms.
REFRESH_PER_S = 8
#: Seconds between plain lines: a 2,000-photo run (~10 minutes) writes ~60 lines to a CI log.
PLAIN_INTERVAL_S = 10.0


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class Progress:
    def __init__(self, label: str, enabled: bool = True, stream=None):
        self.label, self.enabled = label, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = enabled and self.stream.isatty()
        self.started = self.last = None
        self._bar = self._task = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the bar (a no-op for plain lines or when nothing was shown)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __call__(self, k: int, n: int, detail: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.started is None:
            self.started, self.last = now, now - PLAIN_INTERVAL_S
        detail = printable(detail)
        if self.tty:
            self._draw(k, n, detail)
        elif now - self.last >= PLAIN_INTERVAL_S or k == n:
            elapsed = now - self.started
            figures = ""
            if elapsed >= 1.0 and k:  # a rate from less than a second is noise
                rate = k / elapsed
                figures = f" {rate:.1f}/s" + (f", {_duration((n - k) / rate)} left" if k < n else "")
            self.stream.write(f"{self.label} [{k}/{n}]{figures} {detail}".rstrip() + "\n")
            self.stream.flush()
            self.last = now

    def _draw(self, k: int, n: int, detail: str) -> None:
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), TextColumn("{task.fields[detail]}"),
                console=Console(file=self.stream), refresh_per_second=REFRESH_PER_S,
            )  # fmt: skip
            self._task = self._bar.add_task(self.label, total=n, rate="", detail="")
            self._bar.start()
        elapsed = time.monotonic() - self.started
        rate = f"{k / elapsed:.1f}/s" if elapsed >= 1.0 and k else ""
        self._bar.update(self._task, completed=k, total=n, rate=rate, detail=detail[-40:])
        if k == n:
            self.close()
