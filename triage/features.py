"""Features: pure functions of a normalised photo and its skin mask, discovered through a registry.

Every feature is measured against the same person's untreated-looking skin in the same photo:
the reference is the median colour of the less-red half of the skin (the skin pixels whose a* is
at or below the skin's median a*). Each feature has a name, a unit, and a docstring giving its
formula and a reference; `REGISTRY` lists them in a stable order, `compute` returns
{name: finite float or None}.

Notation: L*, a*, b* float CIE Lab (D65); dL, da, db = Lab minus the reference; R, G linear RGB;
L_loc = L* minus its local mean over the skin (Gaussian, sigma LOCAL_SIGMA, normalised
convolution), a_loc likewise with sigma DOT_SIGMA; |S| = skin pixels; lesions are looked for
in the skin's interior S' (S eroded by 4 px: colour bleeds across the outline); all pixel sizes at the
working resolution (config.WORK_LONG_SIDE).
Medians and percentiles "over S" are taken on an even sample of at most config.STATS_MAX_PIXELS
skin pixels (regions.sample; standard error ~0.5% of the spread); counts and areas use every pixel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import cv2
import numpy as np

from . import config
from .color import hue_chroma, ita_deg, luminance
from .regions import components, disk, elongation_solidity, robust_sd, sample

LOCAL_SIGMA = 80.0  # px; local background for dark macules and pustule tops (macules reach ~60 px radius)
DOT_SIGMA = 12.0
_EDGE_KERNEL = disk(4)  # px; local background for papules and dots (a papule is <= ~13 px radius)


@dataclass(frozen=True)
class Feature:
    name: str
    unit: str
    func: Callable[["Measurements"], float]

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


REGISTRY: dict[str, Feature] = {}


def feature(name: str, unit: str):
    """Register a feature function under `name` with its unit."""

    def register(func):
        REGISTRY[name] = Feature(name, unit, func)
        return func

    return register


def _blur_masked(img: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: Gaussian mean of img over mask, computed at reduced size
    (sigma/4 px) and brought back; outside the mask it extrapolates the nearby skin."""
    h, w = img.shape
    f = max(1, int(sigma // 4))
    size = (max(1, w // f), max(1, h // f))
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    v = cv2.resize(img * mask, size, interpolation=cv2.INTER_AREA)
    s = sigma / f
    num = cv2.GaussianBlur(v, (0, 0), s)
    den = cv2.GaussianBlur(m, (0, 0), s)
    out = num / np.maximum(den, 1e-4)
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)


def _smooth(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of sigma px computed at half size: 2x2 area average (itself a blur of
    variance 1/4 px^2 at half size), a Gaussian of sigma' = sqrt(sigma^2 - 1) / 2 there, and
    bilinear enlargement. For sigma = 5 on a photo's Lab the mean difference from the full-size
    blur is 0.001 L* (at most 0.3 at sharp edges), at a tenth of the cost."""
    h, w = img.shape[:2]
    half = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(half, (0, 0), math.sqrt(sigma**2 - 1.0) / 2), (w, h), interpolation=cv2.INTER_LINEAR)


def _components(mask: np.ndarray, min_area: int = 1, max_area: int | None = None):
    """8-connected components: (labels, stats rows kept, centroids kept, kept label ids)."""
    n, labels, stats, cents = components(mask)
    area = stats[:, cv2.CC_STAT_AREA]
    keep = np.arange(n) > 0
    keep &= area >= min_area
    if max_area is not None:
        keep &= area <= max_area
    ids = np.nonzero(keep)[0]
    return labels, stats[ids], cents[ids], ids


def _kept(mask: np.ndarray, min_area: int, shape_ok: Callable[[np.ndarray], bool] | None = None) -> tuple[np.ndarray, int]:
    """The mask's 8-connected components of at least min_area px (and, when given, for which
    shape_ok of the component, a 0/1 uint8 crop around it, is true), and how many there are."""
    labels, stats, _c, ids = _components(mask, min_area)
    keep = np.zeros(labels.max() + 1, bool)
    if shape_ok is None:
        keep[ids] = True
    else:
        for (x, y, w, h, _area), i in zip(stats, ids):
            keep[i] = shape_ok((labels[y: y + h, x: x + w] == i).astype(np.uint8))
    return keep[labels], int(keep.sum())


def _macule_shaped(blob: np.ndarray) -> bool:
    """Compact as a macule is (circumscribed): elongation <= MACULE_MAX_ELONGATION and solidity
    >= MACULE_MIN_SOLIDITY (regions.elongation_solidity)."""
    elongation, solidity = elongation_solidity(blob)
    return elongation <= config.MACULE_MAX_ELONGATION and solidity >= config.MACULE_MIN_SOLIDITY


class Measurements:
    """Intermediate maps shared by the features, computed once each on first use."""

    def __init__(self, linear: np.ndarray, lab: np.ndarray, skin: np.ndarray, hue: np.ndarray | None = None, chroma: np.ndarray | None = None):
        self.linear, self.lab, self.skin = linear, lab, skin
        self._hue_chroma = (hue, chroma) if hue is not None and chroma is not None else None
        self.n_skin = int(skin.sum())
        #: the skin's interior: lesions are looked for only here, since colour bleeds across the
        #: skin's outline (JPEG 4:2:0 chroma, lens blur) and makes false spots on it
        self.core = cv2.erode(skin.astype(np.uint8), _EDGE_KERNEL).astype(bool)

    @cached_property
    def hue_chroma(self) -> tuple[np.ndarray, np.ndarray]:
        return self._hue_chroma or hue_chroma(self.lab)

    @cached_property
    def _sample(self) -> tuple[np.ndarray, np.ndarray]:
        return sample(self.skin, config.STATS_MAX_PIXELS)

    def skin_sample(self, img: np.ndarray) -> np.ndarray:
        """A one-channel map at an even sample of the skin's pixels (config.STATS_MAX_PIXELS):
        medians and percentiles over the skin are taken on it."""
        return img[self._sample]

    @cached_property
    def skin_a(self) -> np.ndarray:
        return self.skin_sample(self.lab[..., 1])

    @cached_property
    def less_red(self) -> np.ndarray:
        """Which sampled skin pixels (skin_sample) form the less-red half: a* at or below the skin's
        REFERENCE_QUANTILE."""
        return self.skin_a <= np.quantile(self.skin_a, config.REFERENCE_QUANTILE)

    @cached_property
    def reference(self) -> np.ndarray:
        """Median (L*, a*, b*) of the less-red half of the skin."""
        return np.array([np.median(self.skin_sample(self.lab[..., c])[self.less_red]) for c in range(3)], np.float32)

    @cached_property
    def da(self) -> np.ndarray:
        """a* - a*_ref."""
        return self.lab[..., 1] - self.reference[1]

    @cached_property
    def da_smooth(self) -> np.ndarray:
        return cv2.GaussianBlur(self.da, (0, 0), config.REDNESS_SMOOTH_SIGMA)

    @cached_property
    def red(self) -> np.ndarray:
        return (self.da_smooth > config.REDNESS_DELTA_A) & self.skin

    @cached_property
    def L_loc(self) -> np.ndarray:
        L = self.lab[..., 0]
        return L - _blur_masked(L, self.skin, LOCAL_SIGMA)

    @cached_property
    def a_loc(self) -> np.ndarray:
        a = self.lab[..., 1]
        return a - _blur_masked(a, self.skin, DOT_SIGMA)

    @cached_property
    def _macule_regions(self) -> tuple[np.ndarray, int]:
        """Dark regions, no redder than the skin around them, of at least MACULE_MIN_AREA px (PIH
        often lies inside a red treated area: its redness is the area's, not its own), compact
        as a macule is (_macule_shaped): (mask, number of regions)."""
        m = (self.L_loc < -config.MACULE_DELTA_L) & (self.a_loc < config.MACULE_MAX_DELTA_A) & self.core
        m = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, disk(2))
        return _kept(m, config.MACULE_MIN_AREA, _macule_shaped)

    @property
    def macules(self) -> np.ndarray:
        return self._macule_regions[0]

    @property
    def macule_count(self) -> int:
        return self._macule_regions[1]

    @cached_property
    def small_red_dots(self) -> np.ndarray:
        """Centroids (x, y) of small red dots: compact components of a_loc > DOT_DELTA_A with
        area in DOT_AREA, at most DOT_MAX_ASPECT elongated, peaking above DOT_PEAK_DELTA_A
        (fragments of a red region's rim are neither compact nor peaked)."""
        m = (self.a_loc > config.DOT_DELTA_A) & self.core
        labels, stats, cents, ids = _components(m, *config.DOT_AREA)
        if len(ids) == 0:
            return cents
        peak = np.zeros(labels.max() + 1, np.float32)
        np.maximum.at(peak, labels[m], self.a_loc[m])
        w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        compact = np.maximum(w, h) <= config.DOT_MAX_ASPECT * np.minimum(w, h)
        return cents[compact & (peak[ids] >= config.DOT_PEAK_DELTA_A)]

    def _spot_and_ring(self, labels, stats, ids, inner: int, outer: int) -> tuple[np.ndarray, np.ndarray]:
        """Median Lab of each listed component and of the skin around it, inner..outer px outside
        it: arrays (n, 3); the ring's row is NaN when no skin surrounds the spot."""
        spot, ring = np.full((len(ids), 3), np.nan, np.float32), np.full((len(ids), 3), np.nan, np.float32)
        near, far = np.ones((2 * inner + 1,) * 2, np.uint8), np.ones((2 * outer + 1,) * 2, np.uint8)
        pad = outer + 2
        for n, ((x, y, w, h, _area), i) in enumerate(zip(stats, ids)):
            box = np.s_[max(0, y - pad): y + h + pad, max(0, x - pad): x + w + pad]
            blob = (labels[box] == i).astype(np.uint8)
            around = cv2.dilate(blob, far).astype(bool) & ~cv2.dilate(blob, near).astype(bool) & self.skin[box]
            lab = self.lab[box]
            spot[n] = np.median(lab[blob.astype(bool)], axis=0)
            if around.any():
                ring[n] = np.median(lab[around], axis=0)
        return spot, ring

    # --- lesion detections: located here so the report can draw them; features count them ---
    @cached_property
    def pustules(self) -> np.ndarray:
        """Centroids (x, y) of pustule-like spots (see f_pustules)."""
        cand = (self.L_loc > config.PUSTULE_DELTA_L) & (self.lab[..., 2] > config.PUSTULE_MIN_B_RATIO * self.reference[2]) & self.core
        rmin, rmax = config.PUSTULE_RADIUS
        labels, stats, cents, ids = _components(cand, int(math.pi * rmin**2), int(math.pi * rmax**2))
        top, ring = self._spot_and_ring(labels, stats, ids, 2, 6)
        with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
            halo = ring[:, 1] - self.reference[1] > config.PUSTULE_HALO_DELTA_A
            found = halo & (top[:, 0] - ring[:, 0] > config.PUSTULE_RING_DELTA_L) & (top[:, 2] - ring[:, 2] > config.PUSTULE_RING_DELTA_B)
        return cents[found]

    @cached_property
    def crusts(self) -> np.ndarray:
        """Mask of yellow crust-like regions (see f_crusts)."""
        hue, chroma = self.hue_chroma
        c_ref = math.hypot(self.reference[1], self.reference[2])
        cand = (hue >= config.CRUST_HUE_DEG[0]) & (hue <= config.CRUST_HUE_DEG[1])
        cand &= (chroma - c_ref > config.CRUST_DELTA_CHROMA) & self.core
        return _kept(cand, config.CRUST_MIN_AREA)[0]

    @cached_property
    def bleeding_spots(self) -> np.ndarray:
        """Centroids (x, y) of pinpoint bleeding spots (see f_bleeding)."""
        dark_red = (self.L_loc < config.BLEED_DELTA_L) & (self.a_loc > config.BLEED_DELTA_A)
        cand = (dark_red | (self.a_loc > config.BLEED_STRONG_DELTA_A)) & self.core
        labels, stats, cents, ids = _components(cand, 2, config.BLEED_MAX_AREA)
        spot, ring = self._spot_and_ring(labels, stats, ids, 1, 4)
        with np.errstate(invalid="ignore"):  # NaN (no ring) compares False
            dL, da = spot[:, 0] - ring[:, 0], spot[:, 1] - ring[:, 1]
            found = ((dL < config.BLEED_RING_DELTA_L) & (da > config.BLEED_RING_DELTA_A)) | (da > config.BLEED_RING_STRONG_DELTA_A)
        return cents[found]

    @cached_property
    def papules(self) -> np.ndarray:
        """Centroids (x, y) of papule-like red bumps (see f_papules)."""
        return _components((self.a_loc > config.PAPULE_DELTA_A) & self.core, *config.PAPULE_AREA)[2]

    @cached_property
    def bruises(self) -> np.ndarray:
        """Mask of bruise-like regions (see f_bruise)."""
        d = _smooth(self.lab, 5.0) - self.reference
        dL, da, db = d[..., 0], d[..., 1], d[..., 2]
        k = max(float(self.reference[0]), 1.0) / 65.0
        cand = (dL < -config.BRUISE_DELTA_L * k) & (db < -config.BRUISE_DELTA_B * k) & (da > 2.0 * k) & (-dL > 1.2 * da) & self.core
        return _kept(cand, config.BRUISE_MIN_AREA)[0]


def _share(mask: np.ndarray, m: Measurements) -> float:
    return float(mask.sum() / m.n_skin)


# --- always present -------------------------------------------------------------------------
@feature("ita_deg", "degrees")
def f_ita(m: Measurements) -> float:
    """Individual typology angle of the untreated-looking skin.

    Formula: ITA = arctan((L*_ref - 50) / b*_ref) * 180/pi, with (L*_ref, b*_ref) the median of
    the less-red half of the skin.
    Reference: Chardon A, Cretois I, Hourseau C. Int J Cosmet Sci 1991;13:191-208; bands per
    Del Bino S et al. Pigment Cell Res 2006;19:606-614."""
    L, _a, b = m.reference
    return float(ita_deg(L, b))


@feature("skin_fraction", "fraction of the image")
def f_skin_fraction(m: Measurements) -> float:
    """Share of the image's pixels that are skin.

    Formula: |S| / (H * W), S the skin mask of triage.skin.
    Reference: contract (results.jsonl); the mask is evaluated by IoU against generated masks."""
    return float(m.skin.mean())


# --- redness --------------------------------------------------------------------------------
@feature("redness_delta_a", "a* units")
def f_redness_delta_a(m: Measurements) -> float:
    """How much redder the reddest tenth of the skin is than the person's untreated skin.

    Formula: P90 over S of (a* - a*_ref).
    Reference: Takiwaki H. Measurement of skin color: practical application and theoretical
    considerations. J Med Invest 1998;44:121-126 (a* tracks erythema)."""
    return float(np.percentile(m.skin_sample(m.da), 90))


@feature("erythema_index_delta", "EI units")
def f_erythema_index(m: Measurements) -> float:
    """Erythema index of the reddest tenth of the skin above the untreated skin's.

    Formula: EI = 100 * log10(R / G) (linear RGB); P90 over S of EI minus the median EI of
    the less-red half.
    Reference: Dawson JB et al. Phys Med Biol 1980;25:695-709; Yamamoto T et al. Skin Res
    Technol 2008;14:26-34 (RGB erythema and melanin indices)."""
    R, G = m.skin_sample(m.linear[..., 0]), m.skin_sample(m.linear[..., 1])
    ei = 100.0 * np.log10((R + 1e-4) / (G + 1e-4))
    return float(np.percentile(ei, 90) - np.median(ei[m.less_red]))


@feature("redness_area_fraction", "fraction of the skin")
def f_redness_area(m: Measurements) -> float:
    """Share of the skin that is visibly red compared with the person's untreated skin.

    Formula: |{x in S : G_s * (a* - a*_ref)(x) > REDNESS_DELTA_A}| / |S|, G_s a Gaussian of
    sigma REDNESS_SMOOTH_SIGMA px (pores and noise are smaller).
    Reference: graded area of erythema as in the Clinician Erythema Assessment; a* threshold
    after Takiwaki 1998."""
    return _share(m.red, m)


@feature("redness_strong_area_fraction", "fraction of the skin")
def f_redness_strong_area(m: Measurements) -> float:
    """Share of the skin that is markedly red.

    Formula: |{x in S : G_s * (a* - a*_ref)(x) > REDNESS_STRONG_DELTA_A}| / |S|.
    Reference: as redness_area_fraction, at the 'marked' step of the erythema scale."""
    return _share((m.da_smooth > config.REDNESS_STRONG_DELTA_A) & m.skin, m)


@feature("redness_largest_region_fraction", "fraction of the skin")
def f_redness_largest(m: Measurements) -> float:
    """Size of the largest connected red region.

    Formula: max over 8-connected components C of the red mask (redness_area_fraction) of |C| / |S|.
    Reference: confluent vs. scattered erythema (spreading redness as an infection sign,
    Dermatol Surg 2021 microneedling review)."""
    _l, stats, _c, _ids = _components(m.red)
    return float(stats[:, cv2.CC_STAT_AREA].max() / m.n_skin) if len(stats) else 0.0


@feature("redness_spread", "ratio")
def f_redness_spread(m: Measurements) -> float:
    """How widely the red pixels are spread over the skin.

    Formula: sqrt(var(x) + var(y)) of red pixels / sqrt(var(x) + var(y)) of skin pixels; 0 when
    no pixel is red. Near 1: redness spread over the whole skin; near 0: one small spot.
    Reference: second moments of a region (Hu MK. IRE Trans Inf Theory 1962;8:179-187)."""
    if np.count_nonzero(m.red) < 2:
        return 0.0
    return float(math.sqrt(_spread2(m.red)) / max(math.sqrt(_spread2(m.skin)), 1e-6))


def _spread2(mask: np.ndarray) -> float:
    """var(x) + var(y) of a mask's pixels, from its image moments (mu20 + mu02) / m00."""
    mo = cv2.moments(mask.astype(np.uint8), binaryImage=True)
    return (mo["mu20"] + mo["mu02"]) / mo["m00"]


# --- hyperpigmentation ----------------------------------------------------------------------
@feature("melanin_index_delta", "MI units")
def f_melanin_index(m: Measurements) -> float:
    """Melanin index of the most pigmented twentieth of the skin above the untreated skin's.

    Formula: MI = 100 * log10(1 / R) (linear RGB); P95 over S of MI minus the median MI of the
    less-red half.
    Reference: Dawson JB et al. Phys Med Biol 1980;25:695-709; Yamamoto T et al. Skin Res
    Technol 2008;14:26-34."""
    mi = -100.0 * np.log10(m.skin_sample(m.linear[..., 0]) + 1e-4)
    return float(np.percentile(mi, 95) - np.median(mi[m.less_red]))


@feature("dark_macule_count", "count")
def f_macule_count(m: Measurements) -> float:
    """Number of dark, not-red patches (candidate post-inflammatory hyperpigmentation).

    Formula: 8-connected components of {x in S' : L_loc < -MACULE_DELTA_L and a_loc < MACULE_MAX_DELTA_A},
    opened with a 5-px disk (hair strands and pores vanish), area >= MACULE_MIN_AREA px,
    elongation <= MACULE_MAX_ELONGATION and solidity >= MACULE_MIN_SOLIDITY
    (regions.elongation_solidity: a macule is circumscribed; the shading of a face's relief
    darkens long or curved bands).
    Reference: PIH as localised darkening relative to surrounding skin (Davis EC, Callender VD.
    J Clin Aesthet Dermatol 2010;3:20-31)."""
    return float(m.macule_count)


@feature("dark_macule_area_fraction", "fraction of the skin")
def f_macule_area(m: Measurements) -> float:
    """Share of the skin covered by dark macules (see dark_macule_count).

    Formula: |macules| / |S|.
    Reference: Davis & Callender 2010 (extent of PIH)."""
    return _share(m.macules, m)


@feature("pigment_delta_L", "L* units")
def f_pigment_delta_L(m: Measurements) -> float:
    """How much darker the dark macules are than the skin around them.

    Formula: mean over macule pixels of -L_loc; 0 when there are none.
    Reference: Delta L* as a pigmentation measure (Takiwaki 1998)."""
    return float(-m.L_loc[m.macules].mean()) if m.macules.any() else 0.0


@feature("ita_drop_deg", "degrees")
def f_ita_drop(m: Measurements) -> float:
    """Drop of the ITA in the dark macules below the untreated skin's ITA.

    Formula: ITA(L*_ref, b*_ref) - ITA(median L*, median b* over macule pixels); 0 when none.
    Reference: Chardon 1991; ITA changes as a pigmentation endpoint (Del Bino 2006)."""
    if not m.macules.any():
        return 0.0
    px = m.lab[m.macules]
    L_ref, _a, b_ref = m.reference
    return float(ita_deg(L_ref, b_ref) - ita_deg(np.median(px[:, 0]), np.median(px[:, 2])))


# --- lesion signs ---------------------------------------------------------------------------
@feature("pustule_count", "count")
def f_pustules(m: Measurements) -> float:
    """Number of pustule-like spots: a small bright, yellowish centre with a red surround.

    Formula: components of {L_loc > PUSTULE_DELTA_L and b* > PUSTULE_MIN_B_RATIO * b*_ref} on the
    skin with equivalent radius in PUSTULE_RADIUS px, whose surrounding ring (2-6 px outside) has
    median da > PUSTULE_HALO_DELTA_A, and whose top is brighter than the ring by more than
    PUSTULE_RING_DELTA_L and yellower by more than PUSTULE_RING_DELTA_B (medians of L*, b*).
    The b* tests keep yellow-white pus and drop glints and oily sheen, which carry the
    illuminant's colour: brighter than the skin around them, never yellower.
    Reference: pustule morphology (white-yellow purulent centre, erythematous halo), e.g.
    Bolognia, Dermatology 4th ed., ch. 1; infection signs after microneedling (seed articles)."""
    return float(len(m.pustules))


@feature("crust_area_fraction", "fraction of the skin")
def f_crusts(m: Measurements) -> float:
    """Share of the skin covered by yellow / honey-coloured crust-like regions.

    Formula: |{x in S : hue in CRUST_HUE_DEG and C* - C*_ref > CRUST_DELTA_CHROMA}| in components
    of at least CRUST_MIN_AREA px, / |S|; hue = atan2(b*, a*), C* = sqrt(a*^2 + b*^2).
    Reference: honey-coloured crusts as the sign of impetiginisation (Hartman-Adams H et al.
    Am Fam Physician 2014;90:229-235)."""
    return _share(m.crusts, m)


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

    Formula: components of {a_loc > PAPULE_DELTA_A} on the skin with area in PAPULE_AREA px.
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
    Gaussian of sigma 5 px (computed at half size, _smooth), components >= BRUISE_MIN_AREA px.
    Erythema (oxygenated blood) darkens skin about 0.6 L* per a*; a bruise (deoxygenated blood)
    about 1.6.
    Reference: colour of bruises (Stephenson T, Bialas Y. Arch Dis Child 1996;74:53-55); Lab of
    oxy/deoxy hemoglobin via the optical model in triage.synth."""
    return _share(m.bruises, m)


# --- texture --------------------------------------------------------------------------------
@feature("texture_roughness", "log-luminance units")
def f_texture(m: Measurements) -> float:
    """Fine texture of the skin (dryness, flaking, scaling raise it).

    Formula: 1.4826 * MAD over S of the band-pass log(Y) - G_2 * log(Y) (Gaussian sigma 2 px),
    Y the linear luminance.
    Reference: skin surface texture from image band-pass energy (e.g. Haralick-free roughness
    in Bielfeldt S et al. Skin Res Technol 2018; MAD as robust scale, Rousseeuw & Croux 1993)."""
    logy = np.log(luminance(m.linear) + 1e-3)
    band = logy - cv2.GaussianBlur(logy, (0, 0), 2.0)
    v = m.skin_sample(band)
    return robust_sd(v)


FEATURE_NAMES: tuple[str, ...] = tuple(REGISTRY)


def compute(linear: np.ndarray, lab: np.ndarray, skin: np.ndarray) -> dict[str, float | None]:
    """All registered features; None for every feature but skin_fraction when there is no skin."""
    return values(Measurements(linear, lab, skin))


def values(m: Measurements) -> dict[str, float | None]:
    """All registered features of prepared measurements (see `compute`)."""
    if m.n_skin < 100:
        return {name: (float(m.skin.mean()) if name == "skin_fraction" else None) for name in FEATURE_NAMES}
    out: dict[str, float | None] = {}
    for name, feat in REGISTRY.items():
        v = feat.func(m)
        out[name] = float(v) if v is not None and math.isfinite(v) else None
    return out
