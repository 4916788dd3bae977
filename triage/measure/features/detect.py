"""Lesion detections: where the pustules, bleeding points, papules, red dots, crusts, bruises and
dark macules are, from the shared maps (triage.measure.features.maps.Measurements, which caches
each detection so that the features count it and the report's overlay draws the same one).

Each function takes the measurements `m` and returns centroids (n, 2) of (x, y) or a bool mask;
the formulas and references are in the docstrings of the features that count them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import config
from ..chromophores import decompose
from ..color import hue_chroma
from ..regions import component_crop, components_mask, components_shaped, disk, elongation_solidity, halved, halved_gaussian, kept_components, median, resized_mask, sized_components, thickness


def macule_shaped(blob: np.ndarray) -> bool:
    """Compact as a macule is (circumscribed): elongation <= MACULE_MAX_ELONGATION and solidity
    >= MACULE_MIN_SOLIDITY (regions.elongation_solidity)."""
    elongation, solidity = elongation_solidity(blob)
    return elongation <= config.MACULE_MAX_ELONGATION and solidity >= config.MACULE_MIN_SOLIDITY


def crust_shaped(blob: np.ndarray) -> bool:
    """A plaque, not a strand: thickness (regions.thickness, 2 A / P) >= CRUST_MIN_THICKNESS."""
    return thickness(blob) >= config.CRUST_MIN_THICKNESS


def clear_of_edge(m, labels: np.ndarray, stats: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """bool per listed component (sized_components' labels, stats rows and ids; components of the
    lesion search area `core`): it does not reach the edge of a face's or head box's lesion search
    area, where a dark or red region is the edge's own shade or rim: none of its pixels lies
    within SEARCH_EDGE_PX px (a disk) of outside the search area with the skin's holes filled
    (Measurements.enclosed_core: the features' margin, the face's outline, the jaw's, hairline's
    and ears' edge). Taken per component, in a box around it: its pixels dilated by the disk
    meet that outside (the disk is symmetric). All True without a face or a head box."""
    clear = np.ones(len(ids), bool)
    if m.searched is None:
        return clear
    edge = disk(config.SEARCH_EDGE_PX)
    for n, (row, i) in enumerate(zip(stats, ids)):
        box, blob = component_crop(labels, row, i, config.SEARCH_EDGE_PX)
        clear[n] = not (cv2.dilate(blob, edge).view(bool) & ~m.enclosed_core[box]).any()
    return clear


def macule_regions(m) -> tuple[np.ndarray, int]:
    """Dark regions, no redder than the skin around them, of at least MACULE_MIN_AREA px (PIH
    often lies inside a red treated area: its redness is the area's, not its own), compact
    as a macule is (macule_shaped), and browner than the skin around them, not only darker:
    against the skin MACULE_RING px around them (medians), more melanin (chromophores.decompose:
    shading and exposure fall out of it) by MACULE_MIN_DELTA_MELANIN. A shadow of the face's
    relief is only darker; pigment is darker and browner. With a face or a head box, not those
    reaching the edge of the lesion search area (clear_of_edge); with a face's scale, not spots the
    size of a freckle or a mole when there are only a few (lone_moles). Returns (mask, number of
    regions)."""
    dark = (m.L_loc < -config.MACULE_DELTA_L) & (m.a_loc < config.MACULE_MAX_DELTA_A) & m.core
    dark = cv2.morphologyEx(dark.astype(np.uint8), cv2.MORPH_OPEN, disk(2))
    labels, stats, _c, ids = sized_components(dark, config.MACULE_MIN_AREA)
    shaped = components_shaped(labels, stats, ids, macule_shaped)
    shaped &= clear_of_edge(m, labels, stats, ids)  # not an eye socket's, nostril's, the jaw's or an ear's shade
    stats, ids = stats[shaped], ids[shaped]
    spot_lin, ring_lin = spot_and_ring(m, labels, stats, ids, *config.MACULE_RING, image=m.linear)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        browner = decompose(spot_lin)[0] - decompose(ring_lin)[0] > config.MACULE_MIN_DELTA_MELANIN
    browner &= ~lone_moles(m, stats[:, cv2.CC_STAT_AREA], browner)
    return components_mask(labels, stats[browner], ids[browner]), int(browner.sum())


def lone_moles(m, areas: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """bool per spot: with a face's scale (Measurements.px_per_mm), a `dark` spot whose
    equivalent diameter 2 sqrt(area / pi) is under MACULE_NAEVUS_MAX_MM, when fewer than
    MACULE_PATTERN_MIN_COUNT spots are dark: a freckle's or a common mole's size, not a pattern
    of hyperpigmentation. All False without a face."""
    if m.px_per_mm is None or dark.sum() >= config.MACULE_PATTERN_MIN_COUNT:
        return np.zeros(len(areas), bool)
    diameter_mm = 2.0 * np.sqrt(areas / math.pi) / m.px_per_mm
    return dark & (diameter_mm < config.MACULE_NAEVUS_MAX_MM)


def small_red_dots(m) -> np.ndarray:
    """Centroids (x, y) of small red dots: compact components of a_loc > DOT_DELTA_A with
    area in DOT_AREA, at most DOT_MAX_ASPECT elongated, peaking above DOT_PEAK_DELTA_A
    (fragments of a red region's rim are neither compact nor peaked)."""
    red = (m.a_loc > config.DOT_DELTA_A) & m.core
    labels, stats, cents, ids = sized_components(red, *config.DOT_AREA)
    if len(ids) == 0:
        return cents
    peak = np.zeros(labels.max() + 1, np.float32)
    np.maximum.at(peak, labels[red], m.a_loc[red])
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    compact = np.maximum(w, h) <= config.DOT_MAX_ASPECT * np.minimum(w, h)
    return cents[compact & (peak[ids] >= config.DOT_PEAK_DELTA_A)]


def component_medians(image: np.ndarray, labels, stats, ids) -> np.ndarray:
    """Median colour of `image` (H, W, 3) over each listed component (sized_components' labels,
    stats rows and ids): (n, 3)."""
    out = np.full((len(ids), 3), np.nan, np.float32)
    for n, (row, i) in enumerate(zip(stats, ids)):
        box, blob = component_crop(labels, row, i)
        out[n] = median(image[box][blob.view(bool)], axis=0)
    return out


def spot_and_ring(m, labels, stats, ids, inner: int, outer: int, image: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Median colour (of `image`, default the Lab image) of each listed component
    (component_medians) and of the skin around it, inner..outer px outside it: arrays (n, 3); the
    ring's row is NaN when no skin surrounds the spot."""
    image = m.lab if image is None else image
    ring = np.full((len(ids), 3), np.nan, np.float32)
    near, far = np.ones((2 * inner + 1,) * 2, np.uint8), np.ones((2 * outer + 1,) * 2, np.uint8)
    for n, (row, i) in enumerate(zip(stats, ids)):
        box, blob = component_crop(labels, row, i, outer + 2)
        around = cv2.dilate(blob, far).astype(bool) & ~cv2.dilate(blob, near).astype(bool) & m.skin[box]
        if around.any():
            ring[n] = median(image[box][around], axis=0)
    return component_medians(image, labels, stats, ids), ring


def bright_spots(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Small bright domes on a red base, the shared first step of pustules and vesicles:
    components of {L_loc > SPOT_DELTA_L} in the skin with its holes filled (a white top may not
    be skin-coloured) with equivalent radius in SPOT_RADIUS px, whose ring SPOT_RING px around
    them is redder than the reference there by SPOT_HALO_DELTA_A (an inflamed base) and darker
    than their top by SPOT_RING_DELTA_L (medians). Returns (centroids (n, 2); yellow (n,) bool:
    an opaque cream-to-yellow top, brighter than its ring by PUSTULE_RING_DELTA_L and its b*
    not below the ring's by more than -PUSTULE_RING_DELTA_B, as pus is, where glints and sheen
    mix the illuminant's colour into the skin's and lose its yellow; clear (n,) bool: not yellow,
    brighter than its ring by
    VESICLE_RING_DELTA_L and less chromatic by -VESICLE_RING_DELTA_CHROMA, as a clear or white
    blister is)."""
    cand = (m.L_loc > config.SPOT_DELTA_L) & m.enclosed_core
    rmin, rmax = config.SPOT_RADIUS
    labels, stats, cents, ids = sized_components(cand, int(math.pi * rmin**2), int(math.pi * rmax**2))
    top, ring = spot_and_ring(m, labels, stats, ids, *config.SPOT_RING)
    at = np.rint(cents).astype(int)
    ref = m.reference_at(at) if len(at) else np.zeros((0, 3), np.float32)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        dL = top[:, 0] - ring[:, 0]
        found = (ring[:, 1] - ref[:, 1] > config.SPOT_HALO_DELTA_A) & (dL > config.SPOT_RING_DELTA_L)
        d_chroma = np.hypot(top[:, 1], top[:, 2]) - np.hypot(ring[:, 1], ring[:, 2])
        yellow = (dL > config.PUSTULE_RING_DELTA_L) & (top[:, 2] - ring[:, 2] > config.PUSTULE_RING_DELTA_B)
        clear = ~yellow & (dL > config.VESICLE_RING_DELTA_L) & (d_chroma < config.VESICLE_RING_DELTA_CHROMA)
    return cents[found], yellow[found], clear[found]


def pustules(m) -> np.ndarray:
    """Centroids (x, y) of pustule-like spots (see the feature pustule_count): bright spots
    whose top is yellow-white (bright_spots)."""
    spots, yellow, _clear = m.bright_spots
    return spots[yellow]


def vesicles(m) -> np.ndarray:
    """Centroids (x, y) of vesicle-like spots (see the feature vesicle_count): bright spots whose
    top is clear or white (bright_spots), in a group of at least VESICLE_MIN_GROUP such spots
    each within VESICLE_GROUP_DISTANCE px of another (single linkage)."""
    spots, _yellow, clear = m.bright_spots
    spots = spots[clear]
    if len(spots) < config.VESICLE_MIN_GROUP:
        return spots[:0]
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    pairs = cKDTree(spots).query_pairs(config.VESICLE_GROUP_DISTANCE, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(spots), len(spots)))
    _n, group = connected_components(graph, directed=False)
    return spots[np.bincount(group)[group] >= config.VESICLE_MIN_GROUP]


def crusts(m) -> np.ndarray:
    """Mask of yellow crust-like regions (see the feature crust_area_fraction), searched in the
    skin with its holes filled (Measurements.enclosed_core): a thick crust is not skin-coloured.
    Plaques only (crust_shaped): a lock of blonde hair over the forehead is honey-hued too. The
    colour test runs at full size only around where a crust can be (crust_candidates)."""
    if not m.enclosed_core.any():
        return np.zeros(m.enclosed_core.shape, bool)
    L_ref, a_ref, b_ref = m.reference
    lo = max(config.CRUST_HUE_DEG[0], math.degrees(math.atan2(b_ref, a_ref)) + config.CRUST_MIN_HUE_STEP)
    c_min = max(config.CRUST_MIN_CHROMA, math.hypot(a_ref, b_ref) + config.CRUST_DELTA_CHROMA)
    cand = crust_candidates(m, lo, config.CRUST_HUE_DEG[1], c_min)
    return kept_components(cand, config.CRUST_MIN_AREA, crust_shaped)[0] if cand.any() else cand


def crust_coloured(lab: np.ndarray, lo: float, hi: float, c_min: float, l_min: float) -> np.ndarray:
    """hue in [lo, hi] deg, chroma >= c_min and L* >= l_min (color.hue_chroma)."""
    hue, chroma = hue_chroma(lab)
    return (hue >= lo) & (hue <= hi) & (chroma >= c_min) & (lab[..., 0] >= l_min)


def crust_candidates(m, lo: float, hi: float, c_min: float) -> np.ndarray:
    """crust_coloured & the lesion search area, the same mask as the test over the whole frame
    wherever a component of it can be a crust, made at full size only in windows around it.
    Seeds: the 2 x 2 blocks of the photo halved (lab_half: block means) inside the search area
    whose mean passes the test with its chroma limit lowered to c_min cos((hi - lo) / 2). Every
    block inside a crust does: the mean of colours in a hue sector narrower than 180 deg stays in
    it, its chroma at least the limit times the cosine of half the sector (0.05 deg and 1% of
    slack for cv2.phase's and float32's rounding); and a component kept as a crust (>=
    CRUST_MIN_AREA px, CRUST_MIN_THICKNESS px thick) holds whole blocks. Windows: the boxes of
    the seeds grown by 2 half-size px (4 px), each grown further until the test finds nothing on
    its edges inside the frame (a component running out of a window continues beyond it)."""
    h, w = m.enclosed_core.shape
    cand = np.zeros((h, w), bool)
    if lo > hi:  # the skin itself is as yellow as a crust may be
        return cand
    slack = 0.99 * math.cos(math.radians(hi - lo) / 2.0)
    seeds = crust_coloured(m.lab_half, lo - 0.05, hi + 0.05, c_min * slack, config.CRUST_MIN_L - 0.01)
    if not seeds.any():  # most photos: nothing more to do
        return cand
    seeds &= halved(m.enclosed_core.view(np.uint8) * np.uint8(4)) == 4  # all four pixels in the search area
    near = cv2.dilate(seeds.view(np.uint8), np.ones((5, 5), np.uint8))  # seeds 4 px apart share a window
    _n, _labels, stats, _c = cv2.connectedComponentsWithStats(near, connectivity=8)
    for x, y, bw, bh, _area in stats[1:]:
        y0, y1, x0, x1, grow = 2 * y, min(h, 2 * (y + bh)), 2 * x, min(w, 2 * (x + bw)), 4
        while True:
            found = crust_coloured(m.lab[y0:y1, x0:x1], lo, hi, c_min, config.CRUST_MIN_L) & m.enclosed_core[y0:y1, x0:x1]
            if not ((y0 > 0 and found[0].any()) or (y1 < h and found[-1].any())
                    or (x0 > 0 and found[:, 0].any()) or (x1 < w and found[:, -1].any())):  # fmt: skip
                break
            grow *= 2
            y0, y1, x0, x1 = max(0, y0 - grow), min(h, y1 + grow), max(0, x0 - grow), min(w, x1 + grow)
        cand[y0:y1, x0:x1] |= found
    return cand


def bleeding_spots(m) -> np.ndarray:
    """Centroids (x, y) of pinpoint bleeding spots (see the feature bleeding_spot_count)."""
    dark_red = (m.L_loc < config.BLEED_DELTA_L) & (m.a_loc > config.BLEED_DELTA_A)
    cand = (dark_red | (m.a_loc > config.BLEED_STRONG_DELTA_A)) & m.core
    labels, stats, cents, ids = sized_components(cand, 2, config.BLEED_MAX_AREA)
    spot, ring = spot_and_ring(m, labels, stats, ids, 1, 4)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        dL, da = spot[:, 0] - ring[:, 0], spot[:, 1] - ring[:, 1]
        found = ((dL < config.BLEED_RING_DELTA_L) & (da > config.BLEED_RING_DELTA_A)) | (da > config.BLEED_RING_STRONG_DELTA_A)
    return cents[found]


def papules(m) -> np.ndarray:
    """Centroids (x, y) of papule-like red bumps (see the feature papule_count): darker than the
    skin around them (PAPULE_RING px outside, medians) by more than PAPULE_MIN_DARKENING L*, as
    more blood is (hemoglobin absorbs green: a* rises and L* falls with it); a warm highlight on
    the nose's or a cheek's curve is redder and brighter. With a face or a head box, not those
    reaching the edge of the lesion search area (clear_of_edge): a red rim there is an
    ear's fold, a nostril's or an eyelid's rim, the lips' border."""
    labels, stats, cents, ids = sized_components((m.a_loc > config.PAPULE_DELTA_A) & m.core, *config.PAPULE_AREA)
    inside = clear_of_edge(m, labels, stats, ids)
    spot, ring = spot_and_ring(m, labels, stats[inside], ids[inside], *config.PAPULE_RING)
    with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
        darker = spot[:, 0] - ring[:, 0] < -config.PAPULE_MIN_DARKENING
    return cents[inside][darker]


def bruises(m) -> np.ndarray:
    """Mask of bruise-like regions (see the feature bruise_area_fraction), blotches as compact as
    a macule (macule_shaped): the shading along the side of the nose, under the eyes and in the
    nasolabial folds is darker and bluer too, but in long bands and crescents. A bruise is a
    blotch of BRUISE_MIN_AREA px and more: it is looked for on the photo reduced by 2, smoothed
    by the Gaussian of sigma 5 px taken there (regions.halved_gaussian of lab_half), and brought back inside the
    lesion search area; there, only the blotches whose median colour holds more blood than the
    person's reference pixels by BRUISE_MIN_DELTA_HEMOGLOBIN (chromophores.decompose): a shadow
    or a beard's shade is darker and bluer without holding blood."""
    h, w = m.lab.shape[:2]
    size = m.lab_half.shape[1::-1]
    planes = cv2.split(halved_gaussian(m.lab_half, 5.0))  # contiguous: numpy's ops on interleaved channels cost 3x
    dL, da, db = (plane - m.reference_plane(c, m.regions_half) for c, plane in enumerate(planes))
    k = max(float(m.reference[0]), 1.0) / 65.0
    cand = (dL < -config.BRUISE_DELTA_L * k) & (db < -config.BRUISE_DELTA_B * k) & (da > 2.0 * k) & (-dL > 1.2 * da)
    found = kept_components(cand & resized_mask(m.core, size), config.BRUISE_MIN_AREA // 4, macule_shaped)[0]
    found = resized_mask(found, (w, h)) & m.core
    labels, stats, _c, ids = sized_components(found)
    blood = decompose(component_medians(m.linear, labels, stats, ids))[1]
    held = blood - m.reference_hemoglobin > config.BRUISE_MIN_DELTA_HEMOGLOBIN
    return components_mask(labels, stats[held], ids[held])
