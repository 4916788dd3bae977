"""Generated post-microneedling skin photos with known ground truth (`triage synth`).

Skin colour follows a bio-optical model in optical-density space (optics: Tsumura et al.,
SIGGRAPH 2003), then shading, specular highlights, the illuminant and the camera. Each photo's
ground truth and capture are drawn first (spec), then drawn as an image: scene layout, reactions
(chromophore changes and lesions), the skin's surface and light, the camera (capture); render
runs those steps, generate writes labelled folders. Skin tones are drawn by ITA band in equal
shares; geometry is in fractions of the long side, so `--size` changes resolution, not content.

May use: triage.measure's colour science (color, chromophores, the chart's published values),
triage.decide's policy and bands (the label of a ground truth), triage.util; for real canvases
(canvas.py) also decoding (measure.io), face parsing (measure.face) and, for a canvas without a
hand-drawn mask, the pipeline's own skin mask (measure.segment). Never the features, the quality
gate or the model it is meant to test (pyproject.toml's forbidden contract).
"""

from __future__ import annotations

from .generate import LABEL_COLUMNS, generate, make_photo
from .optics import melanin_for_ita, skin_lab
from .render import render
from .scene import chart_layout, draw_chart
from .spec import PhotoSpec, findings, sample_spec

__all__ = [
    "LABEL_COLUMNS", "PhotoSpec", "chart_layout", "draw_chart", "findings", "generate", "make_photo",
    "melanin_for_ita", "render", "sample_spec", "skin_lab",
]  # fmt: skip
