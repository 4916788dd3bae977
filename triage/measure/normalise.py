"""Colour normalisation: the photo's linear RGB and float Lab as if under a standard light.

- A ColorChecker Classic in the frame (triage.measure.chart) is used first: a 3 x 3 correction
  fitted to its 24 patches with cv2.ccm corrects the illuminant and the camera's colour
  rendering alike.
- Otherwise white balance: shades-of-gray (Finlayson & Trezzi 2004) over bright, low-chroma
  pixels only, never gray-world over the skin: a frame full of red skin has no neutral to learn
  from, and averaging the skin would remove the redness we measure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np

from . import config
from .chart import find as find_chart
from .color import hue_chroma, linear_to_lab, luminance, max_channel, srgb_to_linear
from .regions import disk, gather, halved, median, reduced, sample_index
from .skin import person_region, reduced_radius


@dataclass(frozen=True)
class Normalised:
    linear: np.ndarray  #: float32 (H, W, 3) linear RGB after correction
    lab: np.ndarray  #: float32 (H, W, 3) CIE L*a*b*
    method: str  #: "colorchecker", "shades_of_gray" or "none"
    chart: np.ndarray | None = None  #: bool (H, W): the ColorChecker used, when one was

    @cached_property
    def lab_half(self) -> np.ndarray:
        """lab at half size (regions.halved), computed once: the skin's body, the greyscale test
        and the collage seams, and the features' redness map, local backgrounds and bruise search
        (features.Measurements) are taken on it."""
        return halved(self.lab)

    @cached_property
    def luminance(self) -> np.ndarray:
        """Relative luminance Y of `linear` (color.luminance), computed once: the sharpness gate
        and the texture feature are taken on it."""
        return luminance(self.linear)


#: srgb_to_linear of the 256 8-bit codes: a look-up gives the same float32 values, 30x faster
_SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


def normalise(rgb: np.ndarray) -> Normalised:
    """Colour-normalise an upright uint8 RGB photo (see module docstring)."""
    lin = cv2.LUT(np.ascontiguousarray(rgb), _SRGB8_TO_LINEAR)
    chart = find_chart(rgb, lin)
    if chart is not None:
        lin = chart.apply(lin)
        lab = linear_to_lab(lin)
        return Normalised(lin, lab, "colorchecker", chart.mask)
    gains = white_balance_gains(lin)
    if gains is not None:  # lin * gains clipped to 1 (lin >= 0): cv2's per-channel product, 3x numpy's clip
        lin = cv2.multiply(lin, (*map(float, gains), 0.0))
        cv2.threshold(lin, 1.0, 1.0, cv2.THRESH_TRUNC, dst=lin)
    lab = linear_to_lab(lin)
    return Normalised(lin, lab, "none" if gains is None else "shades_of_gray")


def white_balance_gains(lin: np.ndarray) -> np.ndarray | None:
    """The shades-of-gray gains (shades_of_gray_gains) over the neutral candidates
    (neutral_candidates) outside the person's skin-coloured region and its rim, or None when
    there are too few neutrals or the correction would take the skin out of its hue range, or
    further out (keeps_skin_hue). Judged on the photo reduced by WB_SCALE (area average): the
    gains are means over thousands of pixels, and the region only keeps the skin out of them."""
    h, w = lin.shape[:2]
    k = config.WB_SCALE
    small = reduced(lin, k)
    lab = linear_to_lab(small)
    hue, chroma = hue_chroma(lab)
    person = person_region(lab, hue, chroma, radius=reduced_radius(k))
    rim = max(1, round(2 * config.SKIN_MORPH_RADIUS / k))
    region = cv2.dilate(person.astype(np.uint8), disk(rim)).astype(bool)  # and its rim
    gains = shades_of_gray_gains(small, neutral_candidates(small, lab, hue, chroma, region))
    if gains is None or not keeps_skin_hue(small, region, gains):
        return None
    return gains


def keeps_skin_hue(lin: np.ndarray, region: np.ndarray, gains: np.ndarray) -> bool:
    """False when the correction would turn the median colour of the main skin-coloured region
    (skin.person_region and its rim) out of the skin hue range [SKIN_HUE_DEG[0],
    WB_MAX_SKIN_HUE_DEG], or further out of it than it was: the 'neutrals' were a tinted wall or
    cloth (a purple-grey backdrop taken as grey turns the skin green), not the illuminant. A
    correction that brings skin rendered too yellow most of the way back is kept."""
    if not region.any():
        return True
    mid = median(gather(lin, sample_index(region, config.STATS_MAX_PIXELS)), axis=0)
    lab = linear_to_lab(np.stack([mid, mid * gains]))
    before, after = (_out_of_skin_hue(math.degrees(math.atan2(b, a))) for _L, a, b in lab)
    return after == 0.0 or after < before


def _out_of_skin_hue(hue: float) -> float:
    """Degrees outside [SKIN_HUE_DEG[0], WB_MAX_SKIN_HUE_DEG] (0 inside)."""
    return max(0.0, config.SKIN_HUE_DEG[0] - hue, hue - config.WB_MAX_SKIN_HUE_DEG)


def neutral_candidates(lin: np.ndarray, lab: np.ndarray, hue: np.ndarray, chroma: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Bright, low-chroma, unclipped pixels outside the main skin-coloured region (`region`,
    skin.person_region and its rim): walls, towels, specular glints (which carry the illuminant's
    colour), never the body of the skin. hue, chroma: of lab (hue_chroma)."""
    skin_hued = (hue >= config.SKIN_HUE_DEG[0]) & (hue <= config.SKIN_HUE_DEG[1]) & (chroma >= config.NEUTRAL_SKIN_HUED_CHROMA)
    cand = (chroma < config.NEUTRAL_MAX_CHROMA) & (lab[..., 0] > config.NEUTRAL_MIN_L) & (max_channel(lin) < 0.98)
    return cand & ~skin_hued & ~region


def shades_of_gray_gains(lin: np.ndarray, cand: np.ndarray) -> np.ndarray | None:
    """Per-channel gains g_c = e / e_c with e_c = (mean over the neutral candidates `cand` of
    I_c^p)^(1/p), p = SHADES_OF_GRAY_P (Finlayson & Trezzi 2004) and e the channels' mean; None
    when fewer than NEUTRAL_MIN_FRACTION of the pixels are candidates."""
    if cand.mean() < config.NEUTRAL_MIN_FRACTION:
        return None
    px = lin[cand].astype(np.float64)
    p = config.SHADES_OF_GRAY_P
    e = np.mean(px**p, axis=0) ** (1.0 / p)
    if np.any(e <= 1e-6):
        return None
    gains = e.mean() / e
    gains = np.clip(gains, 1 / config.WB_MAX_GAIN, config.WB_MAX_GAIN)
    return gains.astype(np.float32)
