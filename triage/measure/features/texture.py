"""Skin texture: dryness and flaking."""

from __future__ import annotations

import cv2
import numpy as np

from ..regions import robust_sd
from .maps import Measurements
from .registry import feature


@feature("texture_roughness", "log-luminance units")
def f_texture(m: Measurements) -> float:
    """Fine texture of the skin (dryness, flaking, scaling raise it).

    Formula: 1.4826 * MAD over S of the band-pass log(Y) - G_2 * log(Y) (Gaussian sigma 2 px),
    Y the linear luminance.
    Reference: skin surface texture from image band-pass energy (e.g. Haralick-free roughness
    in Bielfeldt S et al. Skin Res Technol 2018; MAD as robust scale, Rousseeuw & Croux 1993)."""
    logy = np.log(m.luminance + 1e-3)
    band = logy - cv2.GaussianBlur(logy, (0, 0), 2.0)
    v = m.skin_sample(band)
    return robust_sd(v)
