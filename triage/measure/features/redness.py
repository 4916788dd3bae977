"""Redness (erythema) features, each against the person's untreated-looking skin."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .. import config
from ..face import REGIONS
from ..regions import labels_and_areas, median, percentile
from .maps import Measurements
from .registry import feature


@feature("redness_delta_a", "a* units")
def f_redness_delta_a(m: Measurements) -> float:
    """How much redder the reddest tenth of the skin is than the person's untreated skin.

    Formula: P90 over S of (a* - a*_ref), a*_ref the reference of each pixel's facial region
    (maps.Measurements.reference_plane), or of the less-red half of the skin without a face; on
    the skin sample (maps.Measurements.skin_da).
    Reference: Takiwaki H. Measurement of skin color: practical application and theoretical
    considerations. J Med Invest 1998;44:121-126 (a* tracks erythema)."""
    return percentile(m.skin_da, 90)


@feature("erythema_index_delta", "EI units")
def f_erythema_index(m: Measurements) -> float:
    """Erythema index of the reddest tenth of the skin above the untreated skin's.

    Formula: EI = 100 * log10(R / G) (linear RGB); P90 over S of EI minus the median EI of
    the reference pixels (the skin inside a parsed face's outline, else the less-red half).
    Reference: Dawson JB et al. Phys Med Biol 1980;25:695-709; Yamamoto T et al. Skin Res
    Technol 2008;14:26-34 (RGB erythema and melanin indices)."""
    R, G = m.skin_linear[:, 0], m.skin_linear[:, 1]
    ei = 100.0 * np.log10((R + 1e-4) / (G + 1e-4))
    return float(percentile(ei, 90) - median(ei[m.reference_set]))


@feature("redness_area_fraction", "fraction of the skin")
def f_redness_area(m: Measurements) -> float:
    """Share of the skin that is visibly red compared with the person's untreated skin.

    Formula: |{x in S : G_s * (a* - a*_ref)(x) > REDNESS_DELTA_A}| / |S|, G_s a Gaussian of
    sigma REDNESS_SMOOTH_SIGMA px (pores and noise are smaller); on the photo halved (an area:
    maps.Measurements.da_smooth, skin_half).
    Reference: graded area of erythema as in the Clinician Erythema Assessment; a* threshold
    after Takiwaki 1998."""
    return m.share_half(m.red)


@feature("redness_strong_area_fraction", "fraction of the skin")
def f_redness_strong_area(m: Measurements) -> float:
    """Share of the skin that is markedly red.

    Formula: |{x in S : G_s * (a* - a*_ref)(x) > REDNESS_STRONG_DELTA_A}| / |S|, on the photo halved.
    Reference: as redness_area_fraction, at the 'marked' step of the erythema scale."""
    return m.share_half((m.da_smooth > config.REDNESS_STRONG_DELTA_A) & m.skin_half)


@feature("redness_largest_region_fraction", "fraction of the skin")
def f_redness_largest(m: Measurements) -> float:
    """Size of the largest connected red region.

    Formula: max over 8-connected components C of the red mask (redness_area_fraction) of
    |C| / |S|, on the photo halved.
    Reference: confluent vs. scattered erythema (spreading redness as an infection sign,
    Dermatol Surg 2021 microneedling review)."""
    n, _labels, area = labels_and_areas(m.red)
    return float(area[1:].max() / m.n_skin_half) if n > 1 else 0.0


@feature("redness_spread", "ratio")
def f_redness_spread(m: Measurements) -> float:
    """How widely the red pixels are spread over the skin.

    Formula: sqrt(var(x) + var(y)) of red pixels / sqrt(var(x) + var(y)) of skin pixels; 0 when
    no pixel is red. Near 1: redness spread over the whole skin; near 0: one small spot.
    Reference: second moments of a region (Hu MK. IRE Trans Inf Theory 1962;8:179-187)."""
    if np.count_nonzero(m.red) < 2:
        return 0.0
    return float(math.sqrt(_spread2(m.red)) / max(math.sqrt(_spread2(m.skin_half)), 1e-6))


@feature("hemoglobin_index", "optical density")
def f_hemoglobin_index(m: Measurements) -> float:
    """How much blood the skin holds, on an absolute scale: the measure of redness that does not
    cancel out when all of the skin is red (the whole face treated).

    Formula: median over the reference pixels (the skin inside a parsed face's outline, else all
    of S) of h, from the Tsumura decomposition of linear RGB (triage.measure.chromophores):
    OD = -ln(rho) - OD0 projected orthogonally to (1, 1, 1), which removes shading and exposure,
    then solved for melanin m and hemoglobin h by least squares on the two absorption vectors.
    Independent of exposure and, to first order, of melanin; a white-balance error moves it.
    Reference: Tsumura N et al. ACM Trans Graph (SIGGRAPH) 2003;22:770-779."""
    return m.reference_hemoglobin if m.regional is not None else float(median(m.skin_chromophores[1]))


@feature("cheek_redness_asymmetry", "a* units")
def f_cheek_asymmetry(m: Measurements) -> float:
    """How much redder one cheek is than the other, beyond their usual difference: one-sided
    redness (a spreading infection, a reaction on one side) where a treatment reddens both.

    Formula: |a*_right - a*_left|, each the cheek's median a* over its skin minus its usual offset
    on healthy faces (FACE_REGION_OFFSETS; maps.Measurements.region_levels); 0 without a parsed
    face or with a cheek out of view.
    Reference: unilateral erythema as a feature of cellulitis (Raff AB, Kroshinsky D. JAMA
    2016;316:325-337); healthy faces of ../shared/real-dev: P10-P90 of the difference -2.4 to 2.4."""
    right, left = REGIONS.index("right_cheek"), REGIONS.index("left_cheek")
    levels = m.region_levels
    if right not in levels or left not in levels:
        return 0.0
    return float(abs(levels[right][1] - levels[left][1]))


def _spread2(mask: np.ndarray) -> float:
    """var(x) + var(y) of a mask's pixels, from its image moments (mu20 + mu02) / m00."""
    mo = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    return (mo["mu20"] + mo["mu02"]) / mo["m00"]
