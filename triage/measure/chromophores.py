"""Skin colour as chromophores in optical-density (log-RGB) space, after Tsumura et al.
(Image-based skin color and texture analysis/synthesis by extracting hemoglobin and melanin
information in the skin. ACM Trans Graph (SIGGRAPH) 2003;22:770-779): linear reflectance

    rho_c = exp(-(OD0_c + m sigma_m,c + h sigma_h,c + d sigma_d,c + s))

with melanin concentration m, oxygenated hemoglobin h, deoxygenated hemoglobin d (bruises) and
a shading / exposure term s common to the three channels. The absorption vectors follow the
shapes of the chromophores' spectra sampled at ~600/540/460 nm (melanin rises towards blue;
hemoglobin absorbs green most, red hardly at all) and were scaled so that m in [0, 3] spans the
six ITA bands (Chardon 1991) with L*, a*, b* in the range published for each band (Del Bino
2006). The generator paints with them (triage.synth.optics); `decompose` reads them back.
"""

from __future__ import annotations

import numpy as np

OD_BASE = np.array([0.14, 0.26, 0.58], np.float32)  # dermis scattering + carotene, no melanin/blood
SIGMA_MELANIN = np.array([0.80, 1.02, 1.22], np.float32)
SIGMA_HEMOGLOBIN = np.array([0.06, 0.95, 0.45], np.float32)
SIGMA_DEOXY = np.array([0.45, 0.85, 0.55], np.float32)  # bruise: deoxygenated blood, purple-blue

_NO_SHADING = np.eye(3, dtype=np.float32) - np.float32(1 / 3)  # projects out s (1, 1, 1)
#: (2, 3) least-squares inverse of [P sigma_m, P sigma_h] on the shading-free plane
_UNMIX = np.linalg.pinv(np.stack([_NO_SHADING @ SIGMA_MELANIN, _NO_SHADING @ SIGMA_HEMOGLOBIN], axis=1)).astype(np.float32)


def decompose(linear: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(m, h): melanin and hemoglobin of linear RGB pixels (..., 3), independent of exposure and
    shading: OD = -ln(rho) minus OD0, projected orthogonally to (1, 1, 1) (which removes s), then
    solved for m and h by least squares on the two projected absorption vectors (Tsumura 2003)."""
    od = -np.log(np.clip(np.asarray(linear, np.float32), 1e-4, 1.0)) - OD_BASE
    mh = od @ (_UNMIX @ _NO_SHADING).T
    return mh[..., 0], mh[..., 1]
