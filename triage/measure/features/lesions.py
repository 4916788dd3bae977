"""Lesion-sign features: counts and areas of the detections (triage.measure.features.detect)."""

from __future__ import annotations

import math

import numpy as np

from .. import config
from .maps import Measurements
from .registry import feature


@feature("pustule_count", "count")
def f_pustules(m: Measurements) -> float:
    """Number of pustule-like spots: a small bright, yellow-white top on a red base.

    Formula: bright spots (detect.bright_spots): components of {L_loc > SPOT_DELTA_L} in the skin
    with its holes filled, equivalent radius in SPOT_RADIUS px, whose ring (SPOT_RING px around)
    has median a* above the reference by SPOT_HALO_DELTA_A and median L* below the top's by
    SPOT_RING_DELTA_L; of those, the ones whose top is brighter than the ring by
    PUSTULE_RING_DELTA_L and no bluer (b* step > PUSTULE_RING_DELTA_B): opaque cream-to-yellow
    pus. Glints and oily sheen mix the illuminant's white into the skin's colour: brighter than
    the skin around them, but less yellow.
    Reference: pustule morphology (white-yellow purulent centre, erythematous halo), e.g.
    Bolognia, Dermatology 4th ed., ch. 1; infection signs after microneedling (seed articles)."""
    return float(len(m.pustules))


@feature("vesicle_count", "count")
def f_vesicles(m: Measurements) -> float:
    """Number of grouped vesicle-like spots: small clear or white blisters on a red base, in a
    group.

    Formula: bright spots (as for pustule_count) whose top is not yellow, counted when they lie
    in a group of at least VESICLE_MIN_GROUP bright spots linked by distances of at most
    VESICLE_GROUP_DISTANCE px (single linkage).
    Reference: grouped vesicles on an erythematous base as the sign of herpes simplex
    reactivation (Whitley RJ, Roizman B. Lancet 2001;357:1513-1518); herpes reactivation after
    facial procedures (seed articles; Dermatol Surg 2021 review)."""
    return float(len(m.vesicles))


@feature("crust_area_fraction", "fraction of the skin")
def f_crusts(m: Measurements) -> float:
    """Share of the skin covered by yellow / honey-coloured crust-like regions.

    Formula: |{x in S' : hue in CRUST_HUE_DEG, hue >= hue_ref + CRUST_MIN_HUE_STEP, C* >=
    max(CRUST_MIN_CHROMA, C*_ref + CRUST_DELTA_CHROMA), L* >= CRUST_MIN_L}| in components of at
    least CRUST_MIN_AREA px and thickness 2 A / P >= CRUST_MIN_THICKNESS px (plaques, not hair
    strands), / |S|; hue = atan2(b*, a*), C* = sqrt(a*^2 + b*^2), S' the lesion search area
    with the skin's holes filled.
    Reference: honey-coloured crusts as the sign of impetiginisation (Hartman-Adams H et al.
    Am Fam Physician 2014;90:229-235)."""
    return m.share(m.crusts)


@feature("bleeding_spot_count", "count")
def f_bleeding(m: Measurements) -> float:
    """Number of pinpoint bleeding spots: tiny, darker and redder than the skin around them.

    Formula: components of {(L_loc < BLEED_DELTA_L and a_loc > BLEED_DELTA_A) or a_loc >
    BLEED_STRONG_DELTA_A} on the skin with area in [2, BLEED_MAX_AREA] px whose median Lab,
    against the median of the skin 1-4 px around them, has (dL < BLEED_RING_DELTA_L and
    da > BLEED_RING_DELTA_A) or da > BLEED_RING_STRONG_DELTA_A. The redness-only tests find
    blood on dark skin, where it is hardly darker; JPEG's half-resolution chroma leaves a 3-px
    dot only part of its redness, so the darkness tests carry light skin. The ring tests drop
    pores, hairs and noise, which are barely darker or redder than the skin next to them.
    Reference: pinpoint bleeding as the expected day-0 endpoint of microneedling (Dermatol Surg
    2021 review of 85 studies)."""
    return float(len(m.bleeding_spots))


@feature("papule_count", "count")
def f_papules(m: Measurements) -> float:
    """Number of papule-like red bumps.

    Formula: components of {a_loc > PAPULE_DELTA_A} on the skin with area in PAPULE_AREA px whose
    median L* is below that of the skin PAPULE_RING px around them by more than
    PAPULE_MIN_DARKENING (erythema lowers L* as it raises a*: Takiwaki H. J Med Invest
    1998;44:121-126); with a face or a head box, none reaching the edge of its lesion search area
    (detect.papules).
    Reference: papules and granulomas after microneedling (Soltani-Arabshahi R et al. JAMA
    Dermatol 2014;150:68-72)."""
    return float(len(m.papules))


@feature("track_aligned_dots", "count")
def f_track(m: Measurements) -> float:
    """Number of small red dots lying in straight, evenly spaced rows (roller track marks).

    Formula: dots = compact components of {a_loc > DOT_DELTA_A} with area in DOT_AREA peaking
    above DOT_PEAK_DELTA_A; a dot counts when
    two other dots at distances d1, d2 in TRACK_DOT_SPACING, d1/d2 in [0.6, 1.6], lie on
    opposite sides within TRACK_ANGLE_TOL_DEG of a straight line through it.
    Reference: 'tram-track' scarring after microneedling (Pahwa M et al. Dermatol Surg
    2012;38:1107-1108)."""
    pts = m.small_red_dots
    if len(pts) < 3:
        return 0.0
    from scipy.spatial import cKDTree

    lo, hi = config.TRACK_DOT_SPACING
    tree = cKDTree(pts)
    cos_tol = math.cos(math.radians(180.0 - config.TRACK_ANGLE_TOL_DEG))
    count = 0
    for i, p in enumerate(pts):
        nb = [j for j in tree.query_ball_point(p, hi) if j != i]
        vecs = pts[nb] - p
        d = np.hypot(vecs[:, 0], vecs[:, 1])
        ok = d >= lo
        vecs, d = vecs[ok], d[ok]
        if len(d) < 2:
            continue
        unit = vecs / d[:, None]
        cos = unit @ unit.T
        ratio = d[:, None] / d[None, :]
        if np.any((cos < cos_tol) & (ratio > 0.6) & (ratio < 1.6)):
            count += 1
    return float(count)


@feature("bruise_area_fraction", "fraction of the skin")
def f_bruise(m: Measurements) -> float:
    """Share of the skin that looks bruised: darker than its redness explains, and bluer.

    Formula: |{x in S' : dL < -k BRUISE_DELTA_L, db < -k BRUISE_DELTA_B, da > 2k, -dL > 1.2 da}| / |S|
    with k = L*_ref / 65 (contrast shrinks on darker skin), Lab differences smoothed with a
    Gaussian of sigma 5 px, components >= BRUISE_MIN_AREA px (both on the photo reduced by 2:
    detect.bruises).
    Erythema (oxygenated blood) darkens skin about 0.6 L* per a*; a bruise (deoxygenated blood)
    about 1.6.
    Reference: colour of bruises (Stephenson T, Bialas Y. Arch Dis Child 1996;74:53-55); Lab of
    oxy/deoxy hemoglobin via the optical model in triage.synth."""
    return m.share(m.bruises)
