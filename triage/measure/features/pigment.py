"""Hyperpigmentation features: dark macules and melanin against the person's untreated-looking skin."""

from __future__ import annotations

import numpy as np

from ..chromophores import SIGMA_MELANIN
from ..color import ita_deg
from ..regions import median, percentile
from .maps import Measurements
from .registry import feature

#: MI units per unit of Tsumura melanin: its red optical density (natural log) in 100 log10 units
MI_PER_MELANIN = 100.0 * float(SIGMA_MELANIN[0]) / np.log(10.0)


@feature("melanin_index_delta", "MI units")
def f_melanin_index(m: Measurements) -> float:
    """Melanin of the most pigmented twentieth of the searched skin above the untreated skin's,
    with shading and blood taken out, on the melanin index's scale.

    Formula: mel from the Tsumura decomposition of linear RGB (Measurements.skin_chromophores:
    optical density projected orthogonally to (1, 1, 1), which removes shading and exposure, then
    solved for melanin and hemoglobin); P95 of mel over the sampled lesion search area (`core`;
    all of S when it holds no sample) minus its median over the reference pixels (the skin inside
    a parsed face's outline, else the less-red half), times 100 sigma_mel,R / ln 10: the change of
    MI = 100 log10(1 / R) that the melanin alone makes. The plain MI's P95 on a real face is the
    relief's shade (the sides of the nose, the jaw, the neck), not pigment.
    Reference: Dawson JB et al. Phys Med Biol 1980;25:695-709 (MI); Tsumura N et al. ACM Trans
    Graph (SIGGRAPH) 2003;22:770-779 (decomposition)."""
    mel = m.skin_chromophores[0]
    searched = m.skin_sample(m.core)
    high = percentile(mel[searched] if searched.any() else mel, 95)
    return float((high - median(mel[m.reference_set])) * MI_PER_MELANIN)


@feature("dark_macule_count", "count")
def f_macule_count(m: Measurements) -> float:
    """Number of dark, not-red patches (candidate post-inflammatory hyperpigmentation).

    Formula: 8-connected components of {x in S' : L_loc < -MACULE_DELTA_L and a_loc < MACULE_MAX_DELTA_A},
    opened with a 5-px disk (hair strands and pores vanish), area >= MACULE_MIN_AREA px,
    elongation <= MACULE_MAX_ELONGATION and solidity >= MACULE_MIN_SOLIDITY
    (regions.elongation_solidity: a macule is circumscribed; the shading of a face's relief
    darkens long or curved bands), more melanin than the ring around them, and with a parsed
    face (whose inter-ocular distance gives mm) not those under MACULE_NAEVUS_MAX_MM across
    when fewer than MACULE_PATTERN_MIN_COUNT are found (a freckle's or a mole's size:
    detect.lone_moles).
    Reference: PIH as localised darkening relative to surrounding skin (Davis EC, Callender VD.
    J Clin Aesthet Dermatol 2010;3:20-31)."""
    return float(m.macule_count)


@feature("dark_macule_area_fraction", "fraction of the skin")
def f_macule_area(m: Measurements) -> float:
    """Share of the skin covered by dark macules (see dark_macule_count).

    Formula: |macules| / |S|.
    Reference: Davis & Callender 2010 (extent of PIH)."""
    return m.share(m.macules)


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
    return float(ita_deg(L_ref, b_ref) - ita_deg(*median(px[:, [0, 2]], axis=0)))
