"""One photo measured: colour normalisation, skin, quality and every feature, before any model.

`measure` is what the pipeline, training and the report's previews run on a decoded photo;
`skin_mask` is the public API's skin segmentation of an RGB array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import features
from .face import FaceMap, HeadBox
from .normalise import Normalised
from .quality import Quality, assess
from .segment import segment


@dataclass
class Measured:
    """What the pixels say, before any model: used by analyze and by training alike."""

    normalised: Normalised
    skin: np.ndarray
    quality: Quality
    features: dict[str, float | None]
    maps: features.Measurements  #: the maps and detections the features were computed from
    face: FaceMap | None = None  #: the parsed face, when the photo shows one
    head: HeadBox | None = None  #: where a face is whose mesh is not trusted (a profile)


def measure(rgb: np.ndarray, original_size: tuple[int, int] | None = None) -> Measured:
    """Normalise colour, parse the face, segment skin, gate quality and compute every feature of
    an RGB photo."""
    seg = segment(rgb)
    norm, face, mask = seg.normalised, seg.face, seg.skin
    q = assess(norm, mask, original_size or (rgb.shape[1], rgb.shape[0]), seg.skin_sample)
    maps = features.Measurements(norm.linear, norm.lab, mask, face, seg.head, norm.lab_half, norm.luminance, seg.skin_sample)
    return Measured(norm, mask, q, features.values(maps), maps, face, seg.head)


def skin_mask(rgb: np.ndarray) -> np.ndarray:
    """Public API: skin mask (bool, same H x W) of a uint8 RGB image, after colour normalisation."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("skin_mask expects an RGB uint8 array of shape (H, W, 3)")
    return segment(rgb).skin
