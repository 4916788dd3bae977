"""The skin's optics as the generator paints them: the chromophore model of
triage.measure.chromophores (Tsumura et al. 2003: linear reflectance rho_c = exp(-(OD0_c +
m sigma_m,c + h sigma_h,c + d sigma_d,c))), the untreated skin's hemoglobin, how much each
erythema grade adds, and the colour of fresh blood.
"""

from __future__ import annotations

import numpy as np

from ..measure import color
from ..measure.chromophores import OD_BASE, SIGMA_DEOXY, SIGMA_HEMOGLOBIN, SIGMA_MELANIN

BLOOD = (0.16, 0.006, 0.01)  # linear RGB of fresh blood (sRGB ~ (110, 15, 25)): dark red
BASE_HEMOGLOBIN = (0.18, 0.32)  # range of the untreated skin's h
#: Erythema grade -> added hemoglobin over the treated region (grade 1 about +2.5 a* on light skin,
#: grade 4 about +16); scaled up by (1 + ERYTHEMA_MELANIN_GAIN * m) so that a grade means the same
#: visible step relative to the person's own skin on dark skin as on light (the policy grades
#: relative to the person's untreated skin).
ERYTHEMA_DH = (0.0, 0.08, 0.18, 0.32, 0.52)
ERYTHEMA_MELANIN_GAIN = 0.35


def skin_lab(m: float, h: float) -> np.ndarray:
    """L*a*b* of flat skin with melanin m and hemoglobin h, fully lit."""
    od = OD_BASE + m * SIGMA_MELANIN + h * SIGMA_HEMOGLOBIN
    return color.linear_to_lab(np.exp(-od)[None])[0]


def melanin_for_ita(ita: float, h: float) -> float:
    """Solve skin_lab(m, h) for the m whose ITA is `ita` (ITA falls monotonically with m)."""
    lo, hi = 0.0, 4.0
    for _ in range(40):
        mid = (lo + hi) / 2
        L, _a, b = skin_lab(mid, h)
        if color.ita_deg(L, b) > ita:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def reflectance(m: np.ndarray, hb: np.ndarray, deoxy: np.ndarray) -> np.ndarray:
    """Linear reflectance (H, W, 3) of chromophore maps m, hb, deoxy (H, W): exp(-OD)."""
    od = OD_BASE + m[..., None] * SIGMA_MELANIN + hb[..., None] * SIGMA_HEMOGLOBIN + deoxy[..., None] * SIGMA_DEOXY
    return np.exp(-od)
