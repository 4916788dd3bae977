"""Colour conversion and normalisation, in float (never OpenCV's 8-bit Lab).

- sRGB <-> linear RGB: IEC 61966-2-1 transfer function.
- linear RGB -> CIE XYZ -> CIE L*a*b*: D65 white, 2 degree observer (CIE 15:2004).
- ITA = arctan((L* - 50) / b*) * 180 / pi (Chardon et al. 1991, Int J Cosmet Sci 13:191).
- White balance: shades-of-gray (Finlayson & Trezzi 2004) over bright, low-chroma
  pixels only, never gray-world over the skin: a frame full of red skin has no neutral to learn
  from, and averaging the skin would remove the redness we measure.
"""

from __future__ import annotations

import math

from dataclasses import dataclass

import numpy as np

from . import config

# sRGB primaries, D65 (IEC 61966-2-1)
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_EPS = 216 / 24389  # CIE (6/29)^3
_KAPPA = 24389 / 27


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light."""
    v = np.asarray(v, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB encoding."""
    v = np.clip(np.asarray(v, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


def linear_to_lab(lin: np.ndarray) -> np.ndarray:
    """Linear RGB (..., 3) in [0, 1] to float32 CIE L*a*b* (D65)."""
    xyz = np.asarray(lin, dtype=np.float32) @ _RGB_TO_XYZ.T.astype(np.float32)
    t = xyz / _WHITE_D65.astype(np.float32)
    f = np.where(t > _EPS, np.cbrt(t), (_KAPPA * t + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def rgb8_to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB (..., 3) to float32 L*a*b*."""
    return linear_to_lab(srgb_to_linear(np.asarray(rgb, dtype=np.float32) / 255.0))


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """Inverse of `linear_to_lab` (used by the generator and the tests)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    t = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA)
    xyz = t * _WHITE_D65
    return (xyz @ np.linalg.inv(_RGB_TO_XYZ).T).astype(np.float32)


def ita_deg(L: np.ndarray | float, b: np.ndarray | float) -> np.ndarray | float:
    """Individual typology angle, degrees: arctan2(L* - 50, b*) * 180 / pi (Chardon 1991).

    arctan2 equals arctan((L* - 50) / b*) for b* > 0 (all skin) and stays finite at b* = 0."""
    return np.degrees(np.arctan2(np.asarray(L, dtype=np.float64) - 50.0, np.asarray(b, dtype=np.float64)))


ITA_BANDS = (  # (name, lower bound exclusive); Chardon 1991, Del Bino 2006
    ("very_light", 55.0),
    ("light", 41.0),
    ("intermediate", 28.0),
    ("tan", 10.0),
    ("brown", -30.0),
    ("dark", -np.inf),
)


def ita_band(ita: float) -> str:
    """Skin-tone band of an ITA value: > 55 very light, 41-55 light, 28-41 intermediate,
    10-28 tan, -30-10 brown, < -30 dark."""
    for name, lower in ITA_BANDS:
        if ita > lower:
            return name
    return "dark"


@dataclass(frozen=True)
class Normalised:
    linear: np.ndarray  #: float32 (H, W, 3) linear RGB after correction
    lab: np.ndarray  #: float32 (H, W, 3) CIE L*a*b*
    method: str  #: "shades_of_gray" or "none"


#: srgb_to_linear of the 256 8-bit codes: indexing it is the same float32 values, 6x faster
_SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


def normalise(rgb: np.ndarray) -> Normalised:
    """Colour-normalise an upright uint8 RGB photo (see module docstring)."""
    from .skin import hue_chroma, skin_prior_region

    lin = _SRGB8_TO_LINEAR[rgb]
    lab = linear_to_lab(lin)
    hue, chroma = hue_chroma(lab)
    region = skin_prior_region(lab, hue, chroma)
    gains = shades_of_gray_gains(lin, neutral_candidates(lin, lab, hue, chroma, region))
    if gains is None or not keeps_skin_hue(lin, region, gains):
        return Normalised(lin, lab, "none")
    lin = np.clip(lin * gains, 0.0, 1.0)
    return Normalised(lin, linear_to_lab(lin), "shades_of_gray")


def keeps_skin_hue(lin: np.ndarray, region: np.ndarray, gains: np.ndarray) -> bool:
    """False when the correction would turn the median colour of the main skin-coloured region
    (skin.skin_prior_region) out of the skin hue range: the 'neutrals' were a tinted wall or
    cloth (a purple-grey backdrop taken as grey turns the skin green), not the illuminant."""
    if not region.any():
        return True
    px = lin[region][:: max(1, int(region.sum() // 20000))]
    L, a, b = linear_to_lab(np.median(px, axis=0)[None] * gains)[0]
    hue = math.degrees(math.atan2(b, a))
    return config.SKIN_HUE_DEG[0] <= hue <= config.WB_MAX_SKIN_HUE_DEG


def neutral_candidates(lin: np.ndarray, lab: np.ndarray, hue: np.ndarray, chroma: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Bright, low-chroma, unclipped pixels outside the main skin-coloured region (`region`,
    skin.skin_prior_region): walls, towels, specular glints (which carry the illuminant's
    colour), never the body of the skin. hue, chroma: of lab (skin.hue_chroma)."""
    skin_hued = (hue >= config.SKIN_HUE_DEG[0]) & (hue <= config.SKIN_HUE_DEG[1]) & (chroma >= config.NEUTRAL_SKIN_HUED_CHROMA)
    cand = (chroma < config.NEUTRAL_MAX_CHROMA) & (lab[..., 0] > config.NEUTRAL_MIN_L) & (lin.max(axis=-1) < 0.98)
    return cand & ~skin_hued & ~region


def shades_of_gray_gains(lin: np.ndarray, cand: np.ndarray) -> np.ndarray | None:
    """Per-channel gains g_c = e / e_c with e_c = (mean over the neutral candidates `cand` of
    I_c^p)^(1/p), p = SHADES_OF_GRAY_P (Finlayson & Trezzi 2004) and e the channels' mean; None
    when fewer than NEUTRAL_MIN_FRACTION of the pixels are candidates."""
    if cand.mean() < config.NEUTRAL_MIN_FRACTION:
        return None
    px = lin[cand].astype(np.float64)
    p = config.SHADES_OF_GRAY_P
    e = np.mean(px**p, axis=0) ** (1.0 / p)
    if np.any(e <= 1e-6):
        return None
    gains = e.mean() / e
    gains = np.clip(gains, 1 / config.WB_MAX_GAIN, config.WB_MAX_GAIN)
    return gains.astype(np.float32)



# A ColorChecker path (cv2.mcc detection + cv2.ccm correction) was built and removed: in
# opencv-python-headless 5.0.0 the detector answers differently on identical input (even with
# one thread and a fixed RNG seed), which a triage must not do. See the project notes.
