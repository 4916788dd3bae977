"""Float colour science against published values."""

from __future__ import annotations

import numpy as np
import pytest

from triage.color import ita_band, ita_deg, lab_to_linear, linear_to_lab, rgb8_to_lab, srgb_to_linear


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


# X-Rite ColorChecker Classic, sRGB (D65) values as published by BabelColor / X-Rite (2009 data)
MACBETH = [(115, 82, 68), (194, 150, 130), (98, 122, 157), (87, 108, 67), (133, 128, 177), (103, 189, 170),
           (214, 126, 44), (80, 91, 166), (193, 90, 99), (94, 60, 108), (157, 188, 64), (224, 163, 46),
           (56, 61, 150), (70, 148, 73), (175, 54, 60), (231, 199, 31), (187, 86, 149), (8, 133, 161),
           (243, 243, 242), (200, 200, 200), (160, 160, 160), (122, 122, 121), (85, 85, 85), (52, 52, 52)]  # fmt: skip


def _with_chart(photo, gains):
    import cv2

    patch, gap = 80, 16
    chart = np.full((4 * patch + 5 * gap, 6 * patch + 7 * gap, 3), 20, np.uint8)
    for k, c in enumerate(MACBETH):
        r, col = divmod(k, 6)
        y, x = gap + r * (patch + gap), gap + col * (patch + gap)
        chart[y : y + patch, x : x + patch] = c
    img = cv2.resize(photo, (1024, 768), interpolation=cv2.INTER_LINEAR)
    img[150 : 150 + chart.shape[0], 150 : 150 + chart.shape[1]] = chart
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    lin = srgb_to_linear(img / 255.0) * np.array(gains, np.float32)
    from triage.color import linear_to_srgb

    return (linear_to_srgb(lin) * 255 + 0.5).astype(np.uint8), (150, 150, chart.shape[1], chart.shape[0])


def test_colorchecker_detected_and_corrects_a_cast(photo):
    """A photo with a ColorChecker under a warm cast: the chart is found, the correction brings
    its grey patches back to neutral and the skin back near its uncast colour, and the chart is
    not counted as skin."""
    from triage.color import normalise
    from triage.skin import skin_mask

    clean, _box = _with_chart(photo, (1.0, 1.0, 1.0))
    cast, (x, y, w, h) = _with_chart(photo, (1.15, 1.0, 0.75))
    n = normalise(cast)
    assert n.method == "colorchecker"
    for k in range(19, 23):  # neutral 8 .. neutral 3.5
        r, col = divmod(k, 6)
        cy, cx = y + 16 + r * 96 + 40, x + 16 + col * 96 + 40
        a, b = n.lab[cy - 10 : cy + 10, cx - 10 : cx + 10, 1:].reshape(-1, 2).mean(0)
        assert abs(a) < 2.5 and abs(b) < 2.5, (k, a, b)
    # the same scene without the cast, corrected by its own chart, gives the same skin colour
    # (the chart's reference is OpenCV's Macbeth Lab data, not the sRGB numbers drawn above)
    skin_region = (slice(600, 740), slice(700, 1000))
    n_clean = normalise(clean)
    assert n_clean.method == "colorchecker"
    reference = n_clean.lab[skin_region].reshape(-1, 3).mean(0)
    before = rgb8_to_lab(cast[skin_region]).reshape(-1, 3).mean(0)
    after = n.lab[skin_region].reshape(-1, 3).mean(0)
    assert np.abs(after[1:] - reference[1:]).max() < 1.0
    assert np.abs(before[1:] - reference[1:]).max() > 2 * np.abs(after[1:] - reference[1:]).max()
    assert not skin_mask(cast)[y + 10 : y + h - 10, x + 10 : x + w - 10].any()


def test_no_chart_no_detector(photo):
    from triage.color import may_hold_chart, normalise

    assert not may_hold_chart(photo)
    assert normalise(photo).method in ("shades_of_gray", "none")
