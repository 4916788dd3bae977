"""Float colour science against published values."""

from __future__ import annotations

import numpy as np
import pytest

from triage.decide.bands import ita_band
from triage.measure.color import (
    ita_deg,
    lab_to_linear,
    linear_to_lab,
    rgb8_to_lab,
    srgb_to_linear,
)


@pytest.mark.parametrize(
    "rgb,lab",
    [  # sRGB (D65) -> CIE L*a*b*, values from the CIE/ICC sRGB references (e.g. Lindbloom's calculator)
        ((255, 0, 0), (53.2408, 80.0925, 67.2032)),
        ((0, 255, 0), (87.7347, -86.1827, 83.1793)),
        ((0, 0, 255), (32.2970, 79.1875, -107.8602)),
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((128, 128, 128), (53.5850, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
    ],
)
def test_srgb_to_lab_reference_values(rgb, lab):
    got = rgb8_to_lab(np.array([[rgb]], np.uint8))[0, 0]
    assert np.allclose(got, lab, atol=0.01)


def test_near_black_follows_the_cie_linear_segment_among_bright_pixels():
    """CIE 15:2004: L* = kappa Y for Y <= (6/29)^3, kappa = 24389/27 (~903.3); a neutral has
    a* = b* = 0. Near-black greys interleaved with bright colours in one frame (the dark values
    are set apart from the cube roots around them)."""
    greys = np.array([0.0, 0.0005, 0.002, 0.005, 0.0088], np.float32)
    frame = np.tile(np.array([[0.9, 0.2, 0.4]], np.float32), (2 * len(greys), 1))
    frame[::2] = greys[:, None]
    lab = linear_to_lab(frame.reshape(1, -1, 3))[0]
    assert np.allclose(lab[::2, 0], 24389 / 27 * greys, atol=1e-3)
    assert np.allclose(lab[::2, 1:], 0.0, atol=1e-3)
    assert np.allclose(lab[1::2], lab[1], atol=1e-6)  # the bright pixels untouched by the dark ones


def test_lab_round_trip():
    rng = np.random.default_rng(1)
    lin = rng.uniform(0.01, 1, (500, 3)).astype(np.float32)
    assert np.allclose(lab_to_linear(linear_to_lab(lin)), lin, atol=1e-4)


def test_srgb_transfer_function_reference_points():
    # IEC 61966-2-1: 0.04045 is the breakpoint; 0.5 encodes 0.21404 linear
    assert np.isclose(srgb_to_linear(np.float32(0.5)), 0.214041, atol=1e-5)
    assert np.isclose(srgb_to_linear(np.float32(0.04045)), 0.04045 / 12.92, atol=1e-7)


def test_lab_is_not_quantised_like_opencv_8bit():
    """Skin-like colours one 8-bit step apart give distinct a* (OpenCV's 8-bit Lab would not)."""
    px = np.array([[[200, 150 + i, 130] for i in range(10)]], np.uint8)
    a = rgb8_to_lab(px)[0, :, 1]
    assert len(np.unique(np.round(a, 4))) == 10


@pytest.mark.parametrize(
    "L,b,band",  # Chardon 1991 / Del Bino 2006 band boundaries
    [(75, 10, "very_light"), (65, 15, "light"), (60, 15, "intermediate"), (55, 18, "tan"), (45, 18, "brown"), (30, 18, "dark")],
)
def test_ita_bands(L, b, band):
    assert ita_band(float(ita_deg(L, b))) == band


def test_ita_formula():
    assert np.isclose(ita_deg(50 + 10 * np.sqrt(3), 10), 60.0)  # arctan(sqrt 3) = 60 deg
    assert np.isclose(ita_deg(50, 20), 0.0)
    assert np.isclose(ita_deg(40, 10), -45.0)

