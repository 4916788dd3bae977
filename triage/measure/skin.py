"""Skin segmentation adapted per image, for every skin tone.

1. A broad prior in float CIE L*a*b*: hue angle h = atan2(b*, a*) in SKIN_HUE_DEG, chroma C* in
   SKIN_CHROMA, L* in SKIN_L. It admits skin from ITA +75 to -60 deg (Del Bino 2006 gives skin
   hue 35-75 deg across all groups) and excludes greys, blues, greens and saturated clothing.
2. The person's own skin colour is learned from the prior component with the most pixels in the
   central box of the frame (a skin-coloured backdrop around the subject is often larger), from
   its pixels inside that box: median and MAD of L*, a*, b*. Pixels are kept when b* and L* lie
   within SKIN_MAHALANOBIS robust deviations of it (plus a floor) and a* is not far below it; a*
   may rise freely, since erythema, halos and bruises are skin too. Hair (darker and greyer than
   this person's skin) fails the L*/b* test even when its hue passes the prior. Flushed skin
   redder than the prior's hue range (intense erythema on very light skin, hue near 0 deg) is skin
   when its a* is well above the person's and it is connected to their skin.
3. Opening removes noise, small enclosed holes that are not dark grey (pustule tops, bleeding
   points, crusts) are filled, components under SKIN_MIN_COMPONENT_FRACTION of the frame are
   dropped; last, thin dark strands (hair) found by a black-hat transform are taken out.

No fixed YCrCb box: the thresholds in step 2 move with each person's skin.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import config
from .color import hue_chroma
from .regions import components, disk, sample


def _prior(lab: np.ndarray, hue: np.ndarray | None = None, chroma: np.ndarray | None = None) -> np.ndarray:
    L = lab[..., 0]
    if hue is None or chroma is None:
        hue, chroma = hue_chroma(lab)
    return (
        (hue >= config.SKIN_HUE_DEG[0]) & (hue <= config.SKIN_HUE_DEG[1])
        & (chroma >= config.SKIN_CHROMA[0]) & (chroma <= config.SKIN_CHROMA[1])
        & (L >= config.SKIN_L[0]) & (L <= config.SKIN_L[1])
    )  # fmt: skip


def _central_box(h: int, w: int) -> np.ndarray:
    """The middle SKIN_CENTRAL_BOX share of the frame in each direction."""
    f = (1 - config.SKIN_CENTRAL_BOX) / 2
    box = np.zeros((h, w), bool)
    box[int(h * f): int(h * (1 - f)), int(w * f): int(w * (1 - f))] = True
    return box


def _person_component(mask: np.ndarray) -> np.ndarray:
    """The skin-coloured component the photo is of: the one with the most pixels in the central
    box (photos of treated skin are framed on it; a skin-coloured backdrop is larger but around
    it), else the largest."""
    n, labels, stats, _ = components(mask)
    if n <= 1:
        return mask
    h, w = mask.shape
    in_box = np.bincount(labels[_central_box(h, w)], minlength=n)
    in_box[0] = 0
    pick = int(np.argmax(in_box)) if in_box.max() > 0 else 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return labels == pick


def person_region(
    lab: np.ndarray, hue: np.ndarray | None = None, chroma: np.ndarray | None = None, exclude: np.ndarray | None = None
) -> np.ndarray:
    """The person's skin-coloured region by the broad prior alone: the prior opened by
    SKIN_MORPH_RADIUS, its component the photo is of (_person_component). White balance keeps
    its neutrals away from it (dilated) and the segmentation learns the person's colour from it
    (hue, chroma of lab when already computed; exclude: pixels that are not skin whatever their colour)."""
    prior = _prior(lab, hue, chroma)
    if exclude is not None:
        prior &= ~exclude
    opened = cv2.morphologyEx(prior.astype(np.uint8), cv2.MORPH_OPEN, disk(config.SKIN_MORPH_RADIUS))
    return _person_component(opened.astype(bool))


def skin_mask_lab(
    lab: np.ndarray,
    hue: np.ndarray | None = None,
    chroma: np.ndarray | None = None,
    person: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Skin mask (bool, H x W) of a float Lab image (see module docstring); hue, chroma
    (color.hue_chroma) and person (person_region) of lab when already computed; exclude: pixels
    that are not skin whatever their colour (a ColorChecker's skin patches)."""
    h, w = lab.shape[:2]
    if hue is None or chroma is None:
        hue, chroma = hue_chroma(lab)
    prior = _prior(lab, hue, chroma)
    r = config.SKIN_MORPH_RADIUS
    core = person_region(lab, hue, chroma, exclude) if person is None else person
    if core.sum() < config.SKIN_MIN_COMPONENT_FRACTION * h * w:
        return np.zeros((h, w), bool)
    central = core & _central_box(h, w)
    learn = central if central.sum() >= config.SKIN_MIN_COMPONENT_FRACTION * h * w else core
    px = lab[sample(learn, config.STATS_MAX_PIXELS)].T  # (3, n): one row per channel
    med = np.median(px, axis=1)
    mad = np.median(np.abs(px - med[:, None]), axis=1) * 1.4826 + 1e-3
    k = config.SKIN_MAHALANOBIS
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    persons = (np.abs(b - med[2]) < k * mad[2] + 6.0) & (L > med[0] - (k * mad[0] + 12.0))  # their b*, L*
    adapted = prior & persons & (a > med[1] - (k * mad[1] + 5.0))
    flushed = (
        persons & (hue >= config.SKIN_FLUSH_HUE_MIN_DEG) & (hue < config.SKIN_HUE_DEG[0])
        & (a > med[1] + config.SKIN_FLUSH_MIN_DELTA_A) & (chroma <= config.SKIN_CHROMA[1]) & (L <= config.SKIN_L[1])
    )  # fmt: skip
    if flushed.any():  # kept only where connected to the person's skin
        n, labels = cv2.connectedComponents((adapted | flushed).astype(np.uint8), connectivity=8)
        touches = np.zeros(n, bool)
        touches[np.unique(labels[adapted])] = True
        touches[0] = False
        adapted = touches[labels]
    mask = cv2.morphologyEx(adapted.astype(np.uint8), cv2.MORPH_OPEN, disk(r))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, disk(max(1, r - 1)))
    mask = _fill_small_holes(mask.astype(bool), lab, med, max_area=int(0.004 * h * w))
    n, labels, stats, _ = components(mask)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= config.SKIN_MIN_COMPONENT_FRACTION * h * w
    # hair is taken out last: skin between strands stays skin even where strands cut it into
    # pieces smaller than the minimum component
    mask = keep[labels] & ~hair_like(lab[..., 0])
    return mask if exclude is None else mask & ~exclude


def hair_like(L: np.ndarray) -> np.ndarray:
    """Thin dark strands: morphological black-hat of L* (closing minus image) with a disk of
    diameter HAIR_KERNEL px above HAIR_BLACKHAT L* units, in components at least HAIR_MIN_LENGTH
    px long (hair is long; pinpoint bleeding and pores are dots), dilated by one pixel to take
    the anti-aliased edges. Pores are as thin but only ~8-10 L* darker than the skin."""
    bh = cv2.morphologyEx(L.astype(np.float32), cv2.MORPH_BLACKHAT, disk(config.HAIR_KERNEL // 2))
    n, labels, stats, _ = components(bh > config.HAIR_BLACKHAT)
    long_ = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= config.HAIR_MIN_LENGTH
    long_[0] = False
    return cv2.dilate(long_[labels].astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def _fill_small_holes(mask: np.ndarray, lab: np.ndarray, skin_median: np.ndarray, max_area: int) -> np.ndarray:
    """Fill enclosed holes up to max_area px unless they are dark and grey (hair)."""
    n, labels, stats, _ = components(~mask, connectivity=4)
    if n <= 1:
        return mask
    h, w = mask.shape
    x, y, bw, bh, area = (stats[:, i] for i in range(5))
    touches = (x == 0) | (y == 0) | (x + bw >= w) | (y + bh >= h)
    small = (area <= max_area) & ~touches
    small[0] = False
    idx = np.nonzero(small)[0]
    if len(idx) == 0:
        return mask
    at = np.flatnonzero(small[labels.ravel()])  # pixels of the small holes only
    lbl = labels.ravel()[at]
    px = lab.reshape(-1, 3)[at].astype(np.float64)
    sums = np.stack([np.bincount(lbl, weights=px[:, c], minlength=n) for c in range(3)], axis=1)
    means = sums / np.maximum(area, 1)[:, None]
    chroma = np.hypot(means[:, 1], means[:, 2])
    hair_like = (means[:, 0] < skin_median[0] - 15) & (chroma < np.hypot(skin_median[1], skin_median[2]))
    fill = small & ~hair_like
    return mask | fill[labels]
