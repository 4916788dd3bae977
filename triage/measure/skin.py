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
   With a parsed face (triage.measure.face) the colour is learned from the face's own skin
   inside its outline (eyes, brows and lips left out), with tighter bounds (SKIN_FACE_*) and a
   lower chroma floor (shaded and dark skin); outside the outline a pixel must also keep the
   face's a* and hue (red clothing and auburn or blond hair do not), the head's hair above the
   brows is taken out by its own colour, learned beside the face (head_hair), and only skin
   connected to the face (neck, ears) is kept. A head in profile, whose mesh is not trusted,
   is treated so too with the ellipse inscribed in the detector's box as its outline and the
   box's top as its brows (face.HeadBox): the skin-coloured region of a profile is mostly hair.
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
from .face import FaceMap, HeadBox
from .regions import components, components_box, components_mask, disk, enclosed_holes, gather, halved, labels_and_areas, lookup, median_and_sd, reduced, resized_mask, sample_index


def _prior(lab: np.ndarray, hue: np.ndarray, chroma: np.ndarray, min_chroma: float = config.SKIN_CHROMA[0]) -> np.ndarray:
    L = lab[..., 0]
    return (
        (hue >= config.SKIN_HUE_DEG[0]) & (hue <= config.SKIN_HUE_DEG[1])
        & (chroma >= min_chroma) & (chroma <= config.SKIN_CHROMA[1])
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
    n, labels, area = labels_and_areas(mask)
    if n <= 1:
        return mask
    h, w = mask.shape
    in_box = np.bincount(labels[_central_box(h, w)], minlength=n)
    in_box[0] = 0
    pick = int(np.argmax(in_box)) if in_box.max() > 0 else 1 + int(np.argmax(area[1:]))
    return labels == pick


def person_region(
    lab: np.ndarray,
    hue: np.ndarray | None = None,
    chroma: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    radius: int = config.SKIN_MORPH_RADIUS,
) -> np.ndarray:
    """The person's skin-coloured region by the broad prior alone: the prior opened by `radius`
    px (SKIN_MORPH_RADIUS at the working size), its component the photo is of
    (_person_component). White balance keeps its neutrals away from it (dilated) and the
    segmentation learns the person's colour from it (hue, chroma of lab when already computed;
    exclude: pixels that are not skin whatever their colour)."""
    if hue is None or chroma is None:
        hue, chroma = hue_chroma(lab)
    prior = _prior(lab, hue, chroma)
    if exclude is not None:
        prior &= ~exclude
    opened = cv2.morphologyEx(prior.astype(np.uint8), cv2.MORPH_OPEN, disk(radius))
    return _person_component(opened.astype(bool))


def skin_mask_lab(
    lab: np.ndarray, exclude: np.ndarray | None = None, face: FaceMap | None = None, head: HeadBox | None = None,
    lab_half: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Skin mask (bool, H x W) of a float Lab image (see module docstring); exclude: pixels
    that are not skin whatever their colour (a ColorChecker's skin patches); face: the parsed
    face, when the photo shows one; lab_half: lab at half size (regions.halved), when the caller
    has it.

    The skin's body (steps 1-3 but the hair) is an area: it is worked out on the image reduced by
    SKIN_SCALE (area average) and brought back by bilinear interpolation of the mask, halfway;
    hair strands, 2-5 px wide, the face's features and `exclude` are taken out at full size."""
    h, w = lab.shape[:2]
    k = config.SKIN_SCALE
    if k == 2:  # the same half-size image whether the caller has it or not (regions.halved)
        small = halved(lab) if lab_half is None else lab_half
    else:
        small = reduced(lab, k)
    size = small.shape[1::-1]
    inside = features = brow_row = None
    if face is not None:
        inside, features = resized_mask(face.inside, size), resized_mask(face.features, size)
        brow_row = _first_row(features)
    elif head is not None:
        inside = resized_mask(head.inside, size)
        features, brow_row = np.zeros_like(inside), head.brow_row * size[1] // h
    excluded = None if exclude is None else resized_mask(exclude, size)
    body = _skin_body(small, excluded, inside, features, brow_row, radius=reduced_radius(k))
    if not body.any():
        return np.zeros((h, w), bool)
    mask = cv2.resize(body.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127
    # hair is taken out last: skin between strands stays skin even where strands cut it into
    # pieces smaller than the minimum component
    mask &= ~hair_like(lab[..., 0])
    if face is not None:
        mask &= ~face.features
    return mask if exclude is None else mask & ~exclude


def _first_row(mask: np.ndarray) -> int:
    """The first image row with a pixel of mask (0 when empty)."""
    rows = np.flatnonzero(mask.any(axis=1))
    return int(rows[0]) if len(rows) else 0


def reduced_radius(k: int) -> int:
    """SKIN_MORPH_RADIUS on the photo reduced by k, rounded up (SKIN_SCALE)."""
    return max(1, -(-config.SKIN_MORPH_RADIUS // k))


def _skin_body(
    lab: np.ndarray,
    exclude: np.ndarray | None,
    inside: np.ndarray | None,
    features: np.ndarray | None,
    brow_row: int | None,
    radius: int,
) -> np.ndarray:
    """Steps 1-3 of the module docstring but the hair, on a (reduced) Lab image: with the face's
    outline, features and brows' top row (inside, features, brow_row) when the photo shows a
    trusted face or a head box; radius: the opening's, px."""
    h, w = lab.shape[:2]
    hue, chroma = hue_chroma(lab)
    min_px = config.SKIN_MIN_COMPONENT_FRACTION * h * w
    if inside is not None:  # the person's colour from the face's own skin
        prior = _prior(lab, hue, chroma, config.SKIN_FACE_MIN_CHROMA)
        learn = inside & ~features & prior
        k, margins = config.SKIN_FACE_MAHALANOBIS, config.SKIN_FACE_MARGINS
        if np.count_nonzero(learn) < min_px / 4:
            inside = None
    if inside is None:  # from the skin-coloured region the photo is framed on
        prior = _prior(lab, hue, chroma)
        core = person_region(lab, hue, chroma, exclude, radius)
        if np.count_nonzero(core) < min_px:
            return np.zeros((h, w), bool)
        central = core & _central_box(h, w)
        learn = central if np.count_nonzero(central) >= min_px else core
        k, margins = config.SKIN_MAHALANOBIS, config.SKIN_MARGINS
    at = sample_index(learn, config.STATS_MAX_PIXELS)
    med, mad = median_and_sd(gather(lab, at))
    mad = mad + 1e-3
    (m_L, m_a, m_b), L, a, b = margins, lab[..., 0], lab[..., 1], lab[..., 2]
    persons = (np.abs(b - med[2]) < k * mad[2] + m_b) & (L > med[0] - (k * mad[0] + m_L))  # their b*, L*
    adapted = prior & persons & (a > med[1] - (k * mad[1] + m_a))
    if inside is not None:  # outside the face's outline: the face's a* and hue (no clothing, hair)
        h_med, h_mad = median_and_sd(gather(hue, at))
        adapted &= inside | ((a < med[1] + k * mad[1] + m_a) & (np.abs(hue - h_med) < k * h_mad + config.SKIN_FACE_HUE_MARGIN))
        adapted &= ~head_hair(lab, inside, brow_row, med, mad, among=adapted)
    flushed = (
        persons & (hue >= config.SKIN_FLUSH_HUE_MIN_DEG) & (hue < config.SKIN_HUE_DEG[0])
        & (a > med[1] + config.SKIN_FLUSH_MIN_DELTA_A) & (chroma <= config.SKIN_CHROMA[1]) & (L <= config.SKIN_L[1])
    )  # fmt: skip
    if inside is not None:  # beyond a face's outline pink-red is clothing more often than flush
        flushed &= inside
    if flushed.any():  # kept only where connected to the person's skin
        n, labels = cv2.connectedComponents((adapted | flushed).astype(np.uint8), connectivity=8)
        touches = np.zeros(n, bool)
        touches[np.unique(labels[adapted])] = True
        touches[0] = False
        adapted = lookup(touches, labels)
    mask = cv2.morphologyEx(adapted.astype(np.uint8), cv2.MORPH_OPEN, disk(radius))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, disk(max(1, radius - 1)))
    mask = _fill_small_holes(mask.astype(bool), lab, med, max_area=int(0.004 * h * w))
    n, labels, area = labels_and_areas(mask)
    keep = np.zeros(n, bool)
    keep[1:] = area[1:] >= min_px
    if inside is not None:  # the face's skin and what joins it (neck, ears), not the backdrop
        keep &= np.bincount(labels[inside], minlength=n) > 0
    return lookup(keep, labels)


def head_hair(
    lab: np.ndarray, inside: np.ndarray, brow_row: int, skin_med: np.ndarray, skin_sd: np.ndarray, among: np.ndarray
) -> np.ndarray:
    """The head's hair beside and above a parsed face (bool, lab's shape): where hair of the
    skin's hue (brown, blond) passes every colour test. Its colour is learned from the same photo:
    the pixels within HAIR_RING face heights outside the face's outline and above its brows (image
    row brow_row: the top of the eyes', brows' and lips' mask, or of a head box) that are darker
    than the skin's median L* by HAIR_DARKER robust deviations; with at least HAIR_MIN_SHARE of
    that ring, their median mu_h
    and robust deviation s_h (1.4826 MAD) per channel. Above the brows and outside the outline, a
    pixel x is hair when it is nearer the hair than the skin (skin_med, skin_sd) in robust units:

        sum_c ((x_c - mu_h,c) / s_h,c)^2  <  sum_c ((x_c - mu_s,c) / s_s,c)^2   (c = L*, a*, b*)

    Inside the outline (forehead) and below the brows (ears, neck) nothing is taken: a shaded
    forehead or neck can be nearer a dark hair colour than the lit face. Only pixels of `among`
    (those still taken for skin) are judged."""
    h, w = inside.shape
    rows = np.flatnonzero(inside.any(axis=1))
    if len(rows) == 0 or brow_row <= 0:
        return np.zeros((h, w), bool)
    above = np.zeros((h, w), bool)
    above[:brow_row] = True  # image rows above the brows
    above &= ~inside
    distance = cv2.distanceTransform((~inside).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_3)  # px to the outline
    ring = (distance <= max(1.0, config.HAIR_RING * (rows[-1] - rows[0]))) & above
    dark = ring & (lab[..., 0] < skin_med[0] - config.HAIR_DARKER * skin_sd[0])
    if np.count_nonzero(dark) < config.HAIR_MIN_SHARE * max(np.count_nonzero(ring), 1):
        return np.zeros((h, w), bool)
    hair_med, hair_sd = median_and_sd(lab[dark])
    hair_sd = hair_sd + 1e-3
    at = np.nonzero(above & among)
    x = lab[at]
    nearer = (((x - hair_med) / hair_sd) ** 2).sum(axis=1) < (((x - skin_med) / skin_sd) ** 2).sum(axis=1)
    out = np.zeros((h, w), bool)
    out[at[0][nearer], at[1][nearer]] = True
    return out


def hair_like(L: np.ndarray) -> np.ndarray:
    """Thin dark strands: morphological black-hat of L* (closing minus image) with a disk of
    diameter HAIR_KERNEL px above HAIR_BLACKHAT L* units, in components at least HAIR_MIN_LENGTH
    px long (hair is long; pinpoint bleeding and pores are dots), dilated by one pixel to take
    the anti-aliased edges. Pores are as thin but only ~8-10 L* darker than the skin. L* is taken
    to 8 bits (0.39 L* steps) for the black-hat: 4x faster than in float, the same strands.
    The strands are looked up and dilated only inside the box around them, grown by the pixel."""
    L8 = cv2.convertScaleAbs(L, alpha=255 / 100)
    bh = cv2.morphologyEx(L8, cv2.MORPH_BLACKHAT, disk(config.HAIR_KERNEL // 2))
    _n, labels, stats, _ = components(bh > config.HAIR_BLACKHAT * 255 / 100)
    ids = np.flatnonzero(np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= config.HAIR_MIN_LENGTH)
    ids = ids[ids > 0]
    strands = components_mask(labels, stats[ids], ids)
    if len(ids):
        box = components_box(stats[ids], margin=1)
        strands[box] = cv2.dilate(strands[box].view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
    return strands


def _fill_small_holes(mask: np.ndarray, lab: np.ndarray, skin_median: np.ndarray, max_area: int) -> np.ndarray:
    """Fill enclosed holes up to max_area px unless they are dark and grey (hair)."""
    n, labels, stats, _ = components(enclosed_holes(mask), connectivity=4)
    if n <= 1:
        return mask
    area = stats[:, cv2.CC_STAT_AREA]
    small = area <= max_area
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
    dark_grey = (means[:, 0] < skin_median[0] - 15) & (chroma < np.hypot(skin_median[1], skin_median[2]))
    fill = small & ~dark_grey
    return mask | lookup(fill, labels)
