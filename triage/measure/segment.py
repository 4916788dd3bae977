"""The first steps every measurement of a photo shares: colour normalisation, the face (when the
photo shows one) and the skin mask. The pipeline measures on from here (triage.measure.photo);
the generator uses it to find the skin of a real photo it paints on (triage.synth.canvas)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from . import config
from .face import FaceMap, HeadBox, head_box, map_face, parse
from .normalise import Normalised, normalise
from .regions import sample_index
from .skin import skin_mask_lab


@dataclass(frozen=True)
class Segmented:
    normalised: Normalised
    face: FaceMap | None  #: the parsed face, when the photo shows one
    skin: np.ndarray  #: bool (H, W)
    head: HeadBox | None = None  #: where a face is whose mesh is not trusted (a profile)

    @cached_property
    def skin_sample(self) -> np.ndarray:
        """Raster indices of an even sample of the skin (regions.sample_index, at most
        STATS_MAX_PIXELS), made once: the quality gate's and the features' medians are taken on it."""
        return sample_index(self.skin, config.STATS_MAX_PIXELS)


def segment(rgb: np.ndarray) -> Segmented:
    """Normalise colour, parse the face and segment the skin of an upright uint8 RGB photo."""
    norm = normalise(rgb)
    found = parse(rgb)
    face = head = None
    if found is not None:
        face, head = map_face(found, rgb.shape[:2]), head_box(found, rgb.shape[:2])
    return Segmented(norm, face, skin_mask_lab(norm.lab, exclude=norm.chart, face=face, head=head, lab_half=norm.lab_half), head)
