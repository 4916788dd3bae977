"""Contact-sheet pieces shared by scripts/real_benchmark.py and scripts/detection_sheet.py: a tile
(a photo beside a drawing of what was found on it, under a caption) and a sheet of tiles."""

from __future__ import annotations

from typing import Callable

import numpy as np


def tile(photo: np.ndarray, drawn: np.ndarray, caption: list[str], max_chars: int = 110) -> np.ndarray:
    """RGB photo and drawing of the same height side by side, 4 px apart, under a white bar with
    the caption's lines (17 px each)."""
    import cv2

    row = np.hstack([photo, np.full((photo.shape[0], 4, 3), 255, np.uint8), drawn])
    bar = np.full((5 + 17 * len(caption), row.shape[1], 3), 255, np.uint8)
    for k, line in enumerate(caption):
        cv2.putText(bar, line[:max_chars], (4, 15 + 17 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([bar, row])


def sheet(tiles: list[np.ndarray], cols: int = 1, gap: int = 6) -> np.ndarray:
    """The tiles in rows of `cols`, each padded white to the widest and `gap` px apart."""
    width = max(t.shape[1] for t in tiles)
    right = gap if cols > 1 else 0
    tiles = [np.pad(t, ((0, gap), (0, width - t.shape[1] + right), (0, 0)), constant_values=255) for t in tiles]
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % cols)
    return np.vstack([np.hstack(tiles[i: i + cols]) for i in range(0, len(tiles), cols)])


def indexed(make: Callable, item: tuple[int, object]) -> tuple[int, np.ndarray]:
    """(i, make(job)) for item (i, job): tiles come back from a pool in completion order."""
    i, job = item
    return i, make(job)
