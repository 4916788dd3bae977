"""Pixels to numbers: pure functions of arrays, nothing about levels or words.

io (the only place that decodes files) -> normalise (ColorChecker or white balance; float Lab,
color holds the colour science, chart the chart) -> skin (the person's skin mask) and quality
(can the photo be assessed?) -> features (each against the same person's skin; a registry of
documented features). `photo.measure` runs them all for one photo. Tunables live in `config`.

May use: triage.util. Never: triage.decide or anything above it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def code_version() -> str:
    """sha256 (16 hex) of the source of every module of this package and of the face models it
    runs (face.DETECTOR, face.LANDMARKER): measurements made by the same version are the same
    numbers (the feature cache and the model version are keyed by it)."""
    from ..util.shipped import shipped
    from .face import DETECTOR, LANDMARKER

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in sorted(here.rglob("*.py")):
        h.update(path.relative_to(here).as_posix().encode() + b"\0" + path.read_bytes())
    for name in (DETECTOR, LANDMARKER):
        h.update(shipped(name).read_bytes())
    return h.hexdigest()[:16]
