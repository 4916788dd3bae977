"""Colour conversion and normalisation, in float (never OpenCV's 8-bit Lab).

- sRGB <-> linear RGB: IEC 61966-2-1 transfer function.
- linear RGB -> CIE XYZ -> CIE L*a*b*: D65 white, 2 degree observer (CIE 15:2004).
- ITA = arctan((L* - 50) / b*) * 180 / pi (Chardon et al. 1991, Int J Cosmet Sci 13:191).
- A ColorChecker Classic in the frame (triage.chart) is used first: a 3 x 3 correction fitted to
  its 24 patches with cv2.ccm corrects the illuminant and the camera's colour rendering alike.
- Otherwise white balance: shades-of-gray (Finlayson & Trezzi 2004) over bright, low-chroma
  pixels only, never gray-world over the skin: a frame full of red skin has no neutral to learn
  from, and averaging the skin would remove the redness we measure.
"""

from __future__ import annotations

import math

from dataclasses import dataclass

import cv2
import numpy as np

from . import config
from .regions import disk, sample

# sRGB primaries, D65 (IEC 61966-2-1)
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_EPS = 216 / 24389  # CIE (6/29)^3
_KAPPA = 24389 / 27
_XYZ_OVER_WHITE = (_RGB_TO_XYZ / _WHITE_D65[:, None]).astype(np.float32)
_F_TO_LAB = np.array([[0, 116, 0, -16], [500, -500, 0, 0], [0, 200, -200, 0]], np.float32)  # (f_x, f_y, f_z, 1)


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light."""
    v = np.asarray(v, dtype=np.float32)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB encoding."""
    v = np.clip(np.asarray(v, dtype=np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055).astype(np.float32)


def linear_to_lab(lin: np.ndarray) -> np.ndarray:
    """Linear RGB (..., 3) in [0, 1] to float32 CIE L*a*b* (D65).

    t = diag(1/white) M lin; f = t^(1/3) above (6/29)^3, (kappa t + 16)/116 below;
    L* = 116 f_y - 16, a* = 500 (f_x - f_y), b* = 200 (f_y - f_z). Both linear maps run as one
    cv2.transform each (float32, the same numbers as the matrix products, 8x faster)."""
    lin = np.asarray(lin, dtype=np.float32)
    t = cv2.transform(lin.reshape(-1, 1, 3), _XYZ_OVER_WHITE)
    f = np.cbrt(t)
    small = t <= _EPS
    if small.any():
        f[small] = (_KAPPA * t[small] + 16) / 116
    return cv2.transform(f, _F_TO_LAB).reshape(lin.shape)


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


def hue_chroma(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CIE hue angle h_ab = atan2(b*, a*) in degrees (-180, 180] and chroma C*_ab = sqrt(a*^2 + b*^2)."""
    a, b = np.ascontiguousarray(lab[..., 1]), np.ascontiguousarray(lab[..., 2])
    return np.degrees(np.arctan2(b, a)), cv2.magnitude(a, b)


@dataclass(frozen=True)
class Normalised:
    linear: np.ndarray  #: float32 (H, W, 3) linear RGB after correction
    lab: np.ndarray  #: float32 (H, W, 3) CIE L*a*b*
    method: str  #: "colorchecker", "shades_of_gray" or "none"
    hue: np.ndarray  #: float (H, W) hue angle of lab, degrees (hue_chroma)
    chroma: np.ndarray  #: float32 (H, W) chroma of lab
    person: np.ndarray | None  #: skin.person_region of lab; None when white balance changed lab after
    chart: np.ndarray | None = None  #: bool (H, W): the ColorChecker used, when one was


#: srgb_to_linear of the 256 8-bit codes: a look-up gives the same float32 values, 30x faster
_SRGB8_TO_LINEAR = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)


def normalise(rgb: np.ndarray) -> Normalised:
    """Colour-normalise an upright uint8 RGB photo (see module docstring)."""
    from .chart import find
    from .skin import person_region

    lin = cv2.LUT(np.ascontiguousarray(rgb), _SRGB8_TO_LINEAR)
    chart = find(rgb, lin)
    if chart is not None:
        lin = chart.apply(lin)
        lab = linear_to_lab(lin)
        return Normalised(lin, lab, "colorchecker", *hue_chroma(lab), None, chart.mask)
    lab = linear_to_lab(lin)
    hue, chroma = hue_chroma(lab)
    person = person_region(lab, hue, chroma)
    region = cv2.dilate(person.astype(np.uint8), disk(2 * config.SKIN_MORPH_RADIUS)).astype(bool)  # and its rim
    gains = shades_of_gray_gains(lin, neutral_candidates(lin, lab, hue, chroma, region))
    if gains is None or not keeps_skin_hue(lin, region, gains):
        return Normalised(lin, lab, "none", hue, chroma, person)
    lin = np.clip(lin * gains, 0.0, 1.0)
    lab = linear_to_lab(lin)
    return Normalised(lin, lab, "shades_of_gray", *hue_chroma(lab), None)


def luminance(lin: np.ndarray) -> np.ndarray:
    """Relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B of linear sRGB (IEC 61966-2-1)."""
    return 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]


def max_channel(lin: np.ndarray) -> np.ndarray:
    """max(R, G, B) per pixel (the same as lin.max(axis=-1), 20x faster)."""
    return np.maximum(np.maximum(lin[..., 0], lin[..., 1]), lin[..., 2])


def keeps_skin_hue(lin: np.ndarray, region: np.ndarray, gains: np.ndarray) -> bool:
    """False when the correction would turn the median colour of the main skin-coloured region
    (skin.person_region and its rim) out of the skin hue range: the 'neutrals' were a tinted wall or
    cloth (a purple-grey backdrop taken as grey turns the skin green), not the illuminant."""
    if not region.any():
        return True
    px = lin[sample(region, config.STATS_MAX_PIXELS)]
    L, a, b = linear_to_lab(np.median(px, axis=0)[None] * gains)[0]
    hue = math.degrees(math.atan2(b, a))
    return config.SKIN_HUE_DEG[0] <= hue <= config.WB_MAX_SKIN_HUE_DEG


def neutral_candidates(lin: np.ndarray, lab: np.ndarray, hue: np.ndarray, chroma: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Bright, low-chroma, unclipped pixels outside the main skin-coloured region (`region`,
    skin.person_region and its rim): walls, towels, specular glints (which carry the illuminant's
    colour), never the body of the skin. hue, chroma: of lab (hue_chroma)."""
    skin_hued = (hue >= config.SKIN_HUE_DEG[0]) & (hue <= config.SKIN_HUE_DEG[1]) & (chroma >= config.NEUTRAL_SKIN_HUED_CHROMA)
    cand = (chroma < config.NEUTRAL_MAX_CHROMA) & (lab[..., 0] > config.NEUTRAL_MIN_L) & (max_channel(lin) < 0.98)
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
