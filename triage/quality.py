"""Quality gate: can this photo be assessed at all?

Thresholds are relative to the skin found in the photo (not to the whole frame) and live in
`config`. Issue names are stable (contract): no_skin, too_dark, overexposed, blurry,
low_resolution, color_cast, plus grayscale (a photo with no colour cannot show redness).
Each issue comes with what to fix when retaking.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import config

RETAKE_ADVICE = {
    "no_skin": "frame the treated skin so it fills most of the photo",
    "too_dark": "retake in brighter, even light (daylight from a window, no backlight)",
    "overexposed": "retake without flash or direct sun on the skin",
    "blurry": "hold the phone steady and tap the skin on screen to focus",
    "low_resolution": "send the original photo, not a thumbnail or screenshot",
    "color_cast": "retake in daylight without coloured lamps, filters or beauty mode",
    "grayscale": "retake in colour (no black-and-white filter)",
}


@dataclass(frozen=True)
class Quality:
    ok: bool
    issues: list[str] = field(default_factory=list)
    sharpness: float | None = None  #: robust variance of the Laplacian of log-luminance over the skin
    clipped_fraction: float | None = None  #: share of skin pixels with a clipped channel

    def to_dict(self) -> dict:
        return {"ok": self.ok, "issues": list(self.issues)}


def sharpness(lin: np.ndarray, region: np.ndarray) -> float:
    """(1.4826 MAD)^2 of Laplacian(log Y) over `region`, at 1/SHARPNESS_SCALE of the working size.

    Log-luminance makes it independent of exposure (a darker photo is not a blurrier one); the
    reduced image averages out pixel noise, which would otherwise pass for detail."""
    y = 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]
    f = config.SHARPNESS_SCALE
    size = (max(1, y.shape[1] // f), max(1, y.shape[0] // f))
    small = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    reg = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    reg = cv2.erode(reg, np.ones((7, 7), np.uint8)).astype(bool)  # the skin's edge is not detail
    lap = cv2.Laplacian(np.log(small + 1e-3), cv2.CV_32F)  # 4-neighbour kernel
    vals = lap[reg] if reg.sum() > 50 else lap.ravel()
    return float((1.4826 * np.median(np.abs(vals - np.median(vals)))) ** 2)


def assess(lin: np.ndarray, lab: np.ndarray, skin: np.ndarray, original_size: tuple[int, int]) -> Quality:
    """The quality verdict of a normalised photo (linear RGB, Lab, skin mask)."""
    issues: list[str] = []
    if max(original_size) < config.MIN_LONG_SIDE:
        issues.append("low_resolution")
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    if np.percentile(chroma, 99) < config.GRAYSCALE_MAX_CHROMA:
        issues.append("grayscale")
    skin_fraction = float(skin.mean())
    has_skin = skin_fraction >= config.MIN_SKIN_FRACTION
    region = skin if has_skin else np.ones_like(skin)
    if np.median(lab[..., 0][region]) < config.MIN_SKIN_MEDIAN_L:
        issues.append("too_dark")
    if not has_skin:
        issues.append("no_skin")
    clipped = float((lin[region].max(axis=-1) >= config.CLIP_LEVEL).mean())
    if clipped > config.MAX_CLIPPED_SKIN_FRACTION:
        issues.append("overexposed")
    sharp = sharpness(lin, skin) if has_skin else None  # sharpness of a frame without skin means nothing
    if sharp is not None and sharp < config.MIN_SHARPNESS:
        issues.append("blurry")
    if "grayscale" not in issues and _color_cast(lab, skin if has_skin else None):
        issues.append("color_cast")
    return Quality(not issues, issues, sharp, clipped)


def _color_cast(lab: np.ndarray, skin: np.ndarray | None) -> bool:
    """A cast white balance could not remove: the skin's median hue outside the range skin has
    in daylight (MIN/MAX_SKIN_HUE_DEG), or, with no skin found, the frame's median colour in a
    place no room and no skin is (strongly green, blue or saturated)."""
    if skin is not None:
        a, b = np.median(lab[..., 1][skin]), np.median(lab[..., 2][skin])
        hue = np.degrees(np.arctan2(b, a))
        return bool(hue < config.MIN_SKIN_HUE_DEG or hue > config.MAX_SKIN_HUE_DEG)
    bright = lab[..., 0] > 20
    if bright.sum() < 100:
        return False
    a, b = np.median(lab[..., 1][bright]), np.median(lab[..., 2][bright])
    return bool(a < -config.CAST_MAX_NEGATIVE or b < -config.CAST_MAX_NEGATIVE or np.hypot(a, b) > config.CAST_MAX_CHROMA)
