"""Quality gate: can this photo be assessed at all?

Thresholds are relative to the skin found in the photo (not to the whole frame) and live in
`config`. Issue names are stable (contract): no_skin, too_dark, overexposed, blurry,
low_resolution, color_cast, plus grayscale (a photo with no colour cannot show redness) and
collage (several pictures in one frame: no single person's skin to measure against).
What to fix when retaking is said in words by triage.decide.explain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import config
from .color import chroma
from .normalise import Normalised
from .regions import gather, median, robust_sd, sample_index


@dataclass(frozen=True)
class Quality:
    ok: bool
    issues: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "issues": list(self.issues)}


def sharpness(y: np.ndarray, region: np.ndarray, original_long: int | None = None) -> float:
    """(1.4826 MAD)^2 of Laplacian(log Y) over `region` (eroded by 3/256 of the frame), on the
    luminance Y (color.luminance) reduced to n / SHARPNESS_SCALE px on its long side, n =
    min(working long side, original_long).

    Log-luminance makes it independent of exposure (a darker photo is not a blurrier one); the
    reduced image averages out pixel noise, which would otherwise pass for detail. Each reduced
    pixel spans at least SHARPNESS_SCALE of the photo's own pixels, so a photo enlarged to the
    working size is judged at its own resolution: detail near its own pixel scale, which
    demosaicing, JPEG and the enlargement soften in any small photo, is not asked of it."""
    long = max(y.shape)
    n = long if original_long is None else min(long, original_long)
    s = n / (config.SHARPNESS_SCALE * long)
    size = (max(1, int(y.shape[1] * s)), max(1, int(y.shape[0] * s)))
    small = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    reg = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    r = max(1, round(3 * max(size) / 256))  # 7 x 7 at 256 px: the skin's edge is not detail
    reg = cv2.erode(reg, np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
    lap = cv2.Laplacian(np.log(small + 1e-3), cv2.CV_32F)  # 4-neighbour kernel
    vals = lap[reg] if reg.sum() > 50 else lap.ravel()
    return robust_sd(vals) ** 2


def overexposed(px: np.ndarray) -> bool:
    """Blown out: n = the number of channels >= CLIP_LEVEL per pixel of px, (n, 3) linear RGB of
    the skin (an even sample: the shares are area statistics); share(n >= CLIP_MIN_CHANNELS) >
    MAX_CLIPPED_SKIN_FRACTION (lightness and texture lost), or share(n >= 1) >
    MAX_ANY_CLIPPED_SKIN_FRACTION (no unclipped skin left to measure colour on: all the mask keeps
    of a blown-out skin is its clipped rim). Red alone clipped on part of the skin (erythema,
    sunburn, a flash close-up's vivid rendering) is neither."""
    n = np.count_nonzero(px >= config.CLIP_LEVEL, axis=1)
    return bool(np.mean(n >= config.CLIP_MIN_CHANNELS) > config.MAX_CLIPPED_SKIN_FRACTION
                or np.mean(n >= 1) > config.MAX_ANY_CLIPPED_SKIN_FRACTION)  # fmt: skip


def assess(norm: Normalised, skin: np.ndarray, original_size: tuple[int, int], skin_sample: np.ndarray | None = None) -> Quality:
    """The quality verdict of a normalised photo and its skin mask. skin_sample: the raster
    indices of an even sample of the skin (regions.sample_index, STATS_MAX_PIXELS), when the
    caller has them: medians and clipped shares are taken on it."""
    lin, lab = norm.linear, norm.lab
    issues: list[str] = []
    if max(original_size) < config.MIN_LONG_SIDE:
        issues.append("low_resolution")
    half = norm.lab_half  # a share of the frame: an area statistic, taken at half size
    if np.count_nonzero(chroma(half) >= config.GRAYSCALE_MAX_CHROMA) < 0.01 * half.shape[0] * half.shape[1]:  # P99 of C* below it
        issues.append("grayscale")
    skin_fraction = float(skin.mean())
    has_skin = skin_fraction >= config.MIN_SKIN_FRACTION
    sample = skin_sample if has_skin and skin_sample is not None else sample_index(skin if has_skin else np.ones_like(skin), config.STATS_MAX_PIXELS)
    px = gather(lab, sample)  # (n, 3) of the skin, or of the frame without skin: medians are taken on a sample
    if median(px[:, 0]) < config.MIN_SKIN_MEDIAN_L:
        issues.append("too_dark")
    if not has_skin:
        issues.append("no_skin")
    if overexposed(gather(lin, sample)):
        issues.append("overexposed")
    # sharpness of a frame without skin means nothing
    sharp = sharpness(norm.luminance, skin, max(original_size)) if has_skin else None
    if sharp is not None and sharp < config.MIN_SHARPNESS:
        issues.append("blurry")
    if collage_seams(lab, skin, half) is not None:
        issues.append("collage")
    if "grayscale" not in issues and _color_cast(px if has_skin else lab[lab[..., 0] > 20], has_skin):
        issues.append("color_cast")
    return Quality(not issues, issues)


def _color_cast(px: np.ndarray, of_skin: bool) -> bool:
    """A cast white balance could not remove: the skin's median hue outside the range skin has
    in daylight (MIN/MAX_SKIN_HUE_DEG), or, with no skin found, the median colour of the frame's
    not-dark pixels in a place no room and no skin is (strongly green, blue or saturated).
    px: (n, 3) Lab of the skin (a sample) or of the frame's pixels with L* > 20."""
    if of_skin:
        a, b = median(px[:, 1:], axis=0)
        hue = np.degrees(np.arctan2(b, a))
        return bool(hue < config.MIN_SKIN_HUE_DEG or hue > config.MAX_SKIN_HUE_DEG)
    if len(px) < 100:
        return False
    a, b = median(px[:, 1:], axis=0)
    return bool(a < -config.CAST_MAX_NEGATIVE or b < -config.CAST_MAX_NEGATIVE or np.hypot(a, b) > config.CAST_MAX_CHROMA)


def collage_seams(lab: np.ndarray, skin: np.ndarray, lab_half: np.ndarray | None = None) -> tuple[int | None, int | None] | None:
    """Where the pictures of a collage meet, in the photo's pixels, or None for one picture:
    (x, y) where four meet in a cross of a full-height and a full-width straight seam; (x, None)
    or (None, y) where two meet side by side or one above the other (thresholds and their reasons
    in config, COLLAGE_*).

    One straight seam alone is also the edge of a towel or a garment across the frame; two
    pictures differ in that each fills a good part of the frame (the seam lies in its middle
    COLLAGE_SINGLE_SPAN) and their seam cuts through skin: in at least COLLAGE_SKIN_BOTH_SIDES of
    its length there is skin on both sides, and the colour steps in at least
    COLLAGE_SKIN_STEP_SHARE of those rows (a straight line through skin is no feature of skin)."""
    small, s = _reduced(lab, lab_half)
    across, down = _seams(small), _seams(small.transpose(1, 0, 2))
    (x, x_rows), (y, y_rows) = _best(across, 0.05, 0.95), _best(down, 0.05, 0.95)
    if min(x_rows.mean(), y_rows.mean()) >= config.COLLAGE_MIN_SHARE:
        return round((x + 1) / s), round((y + 1) / s)
    size = (small.shape[1], small.shape[0])
    sk = cv2.resize(skin.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    lo, hi = config.COLLAGE_SINGLE_SPAN
    two = []
    for seams, m, at in ((across, sk, lambda p: (p, None)), (down, sk.T, lambda p: (None, p))):
        k, rows = _best(seams, lo, hi)
        both = m[:, max(0, k - 2)] & m[:, min(m.shape[1] - 1, k + 3)]  # skin 2 px either side
        if (
            rows.mean() >= config.COLLAGE_SINGLE_MIN_SHARE
            and both.mean() >= config.COLLAGE_SKIN_BOTH_SIDES
            and rows[both].mean() >= config.COLLAGE_SKIN_STEP_SHARE
        ):
            two.append((rows.mean(), at(round((k + 1) / s))))
    return max(two, key=lambda t: t[0])[1] if two else None


def _reduced(lab: np.ndarray, lab_half: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Lab at most COLLAGE_SIZE px on its long side (area average), and the scale used; the
    half-size lab (regions.halved: whole 2 x 2 blocks, an odd last row or column left out)
    itself when its long side is that size (the working size's photos, 1024 x 683 ones too)."""
    h, w = lab.shape[:2]
    s = min(1.0, config.COLLAGE_SIZE / max(h, w))
    if lab_half is not None and s == 0.5:  # halved: long side COLLAGE_SIZE
        return lab_half, s
    size = (max(8, round(w * s)), max(8, round(h * s)))
    return cv2.resize(np.ascontiguousarray(lab), size, interpolation=cv2.INTER_AREA), s


def _seams(img: np.ndarray) -> np.ndarray:
    """(rows, columns - 1) bool: where the step from column k to k+1 is a seam. A step is the
    colour difference Delta E*ab between neighbouring pixels; a seam is a step above
    COLLAGE_STEP_DELTA_E and COLLAGE_STEP_RATIO times the steps two columns before and after."""
    d = np.diff(img, axis=1) ** 2
    step = np.sqrt(d[..., 0] + d[..., 1] + d[..., 2])
    edge = np.pad(step, ((0, 0), (2, 2)), mode="edge")
    around = np.maximum(edge[:, :-4], edge[:, 4:])
    return (step > config.COLLAGE_STEP_DELTA_E) & (step > config.COLLAGE_STEP_RATIO * around)


def _best(seams: np.ndarray, lo: float, hi: float) -> tuple[int, np.ndarray]:
    """The column k between fractions lo and hi of the width that is a seam in the largest share
    of rows, and which rows it is a seam in."""
    share = seams.mean(axis=0)
    a, b = int(lo * len(share)), int(hi * len(share)) + 1
    k = a + int(np.argmax(share[a:b]))
    return k, seams[:, k]
