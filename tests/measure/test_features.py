"""Features against ground truth built into the image: golden values computed independently of
the code (analytic areas, counts, published formulas), monotonicity and invariance on generated
photos, and a registry completeness check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from triage import synth
from triage.decide.bands import ita_band
from triage.measure import color, features, regions
from triage.measure.features import REGISTRY, detect

H, W = 300, 400
SKIN = (65.0, 12.0, 16.0)  # L*, a*, b* of the untreated skin in the golden images


def canvas(noise=0.25, seed=0):
    rng = np.random.default_rng(seed)
    lab = np.empty((H, W, 3), np.float32)
    lab[:] = SKIN
    lab += rng.normal(0, noise, lab.shape).astype(np.float32)
    return lab


def disc_mask(cx, cy, r):
    yy, xx = np.mgrid[0:H, 0:W]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def run(lab, mask=None):
    return run_linear(np.clip(color.lab_to_linear(lab), 1e-4, 1), mask)


def run_linear(lin, mask=None):
    """Every feature of a linear-RGB image (H, W, 3), all of it skin unless `mask` says otherwise."""
    lin = np.asarray(lin, np.float32)
    return features.compute(lin, color.linear_to_lab(lin), np.ones((H, W), bool) if mask is None else mask)


# --- golden values -----------------------------------------------------------------------------
def golden_redness():
    lab = canvas()
    red = disc_mask(200, 150, 80)  # area pi*80^2 = 20106 px = 16.8% of 120000
    lab[red, 1] += 10
    f = run(lab)
    share = red.mean()
    assert f["redness_area_fraction"] == pytest.approx(share, abs=0.01)
    assert f["redness_largest_region_fraction"] == pytest.approx(share, abs=0.01)
    assert f["redness_delta_a"] == pytest.approx(10.0, abs=0.6)  # P90 falls inside the red 16.8%
    assert f["track_aligned_dots"] == 0  # the disc's rim is not a row of dots
    # spread: a centred disc of radius R has sqrt(var x + var y) = R / sqrt(2); a W x H
    # rectangle sqrt((W^2 + H^2) / 12)
    assert f["redness_spread"] == pytest.approx((80 / math.sqrt(2)) / math.sqrt((W**2 + H**2) / 12), rel=0.03)


def golden_strong_vs_mild():
    lab = canvas()
    strong, mild = disc_mask(120, 150, 60), disc_mask(300, 150, 40)
    lab[strong, 1] += 14
    lab[mild, 1] += 6
    f = run(lab)
    assert f["redness_strong_area_fraction"] == pytest.approx(strong.mean(), abs=0.01)
    assert f["redness_area_fraction"] == pytest.approx(strong.mean() + mild.mean(), abs=0.012)
    assert f["redness_largest_region_fraction"] == pytest.approx(strong.mean(), abs=0.01)


def golden_erythema_index():
    """EI = 100 log10(R/G) (Dawson 1980) on flat linear RGB regions."""
    ref, red, dark = np.array([0.40, 0.25, 0.20]), np.array([0.45, 0.18, 0.15]), np.array([0.20, 0.13, 0.10])
    lin = np.empty((H, W, 3), np.float32)
    lin[:] = ref
    r_mask = np.zeros((H, W), bool)
    r_mask[:, :60] = True  # 15% of the image: P90 of EI falls in it
    d_mask = np.zeros((H, W), bool)
    d_mask[:, -40:] = True  # 10%: P95 of MI falls in it
    lin[r_mask] = red
    lin[d_mask] = dark
    f = run_linear(lin)
    ei = lambda c: 100 * math.log10(c[0] / c[1])  # noqa: E731
    assert f["erythema_index_delta"] == pytest.approx(ei(red) - ei(ref), abs=0.05)


def golden_melanin_index():
    """Skin painted from its chromophores under light falling off across the frame, with a band of
    more melanin (11% of the frame: its P95) and a patch of more blood: the feature reads the
    band's MI = 100 log10(1/R) (Dawson 1980) above the skin's as measured where both are evenly
    lit, whatever the exposure; neither the shade nor the blood moves it. The plain MI's P95 is
    the shade."""
    from triage.measure.chromophores import OD_BASE, SIGMA_HEMOGLOBIN, SIGMA_MELANIN

    yy, xx = np.mgrid[0:H, 0:W]
    shading = (0.5 + 0.5 * yy / H)[..., None]
    band, blood = (xx >= 300) & (xx < 345), (xx < 80)
    for melanin, more, exposure in [(0.5, 0.4, 1.0), (2.0, 0.8, 0.6), (1.0, 0.0, 1.2)]:
        m_map = np.where(band, melanin + more, melanin)[..., None]
        h_map = np.where(blood, 0.8, 0.3)[..., None]
        even = np.exp(-(OD_BASE + m_map * SIGMA_MELANIN + h_map * SIGMA_HEMOGLOBIN)) * exposure
        lin = np.clip(even * shading, 0, 1).astype(np.float32)
        f = run_linear(lin)
        expected = 100 * math.log10(even[150, 200, 0] / even[150, 320, 0])  # skin, then band
        assert f["melanin_index_delta"] == pytest.approx(expected, abs=0.3)
        if more == 0:  # what the shade alone does to the plain MI
            plain = -100 * np.log10(lin[..., 0])
            assert np.percentile(plain, 95) - np.median(plain) > 10


def golden_macules():
    lab = canvas()
    centres = [(80, 80), (300, 80), (80, 220), (300, 220)]
    mac = np.zeros((H, W), bool)
    for c in centres:
        mac |= disc_mask(*c, 15)
    lab[mac, 0] -= 15
    lab[mac, 2] += 2
    f = run(lab)
    assert f["dark_macule_count"] == 4
    assert f["dark_macule_area_fraction"] == pytest.approx(mac.mean(), rel=0.15)
    assert 12.0 <= f["pigment_delta_L"] <= 15.5  # 15 deep; the local mean includes a little of the macule
    expected_drop = color.ita_deg(SKIN[0], SKIN[2]) - color.ita_deg(SKIN[0] - 15, SKIN[2] + 2)
    assert f["ita_drop_deg"] == pytest.approx(expected_drop, abs=1.5)


def _box(top, bottom, left, right):
    m = np.zeros((H, W), bool)
    m[top:bottom, left:right] = True
    return m


def _half_annulus(cx, cy, r_in, r_out):
    yy, _xx = np.mgrid[0:H, 0:W]
    return disc_mask(cx, cy, r_out) & ~disc_mask(cx, cy, r_in) & (yy <= cy)


@pytest.mark.parametrize(
    "shape, elongation, solidity",
    [
        # a disc: isotropic and convex
        (lambda: disc_mask(200, 150, 30), 1.0, 1.0),
        # a w x h bar: second moments w^2/12 and h^2/12, so elongation = w / h
        (lambda: _box(120, 180, 80, 320), 4.0, 1.0),
        # half an annulus: its hull is the half disc of the outer radius, so solidity = 1 - r^2/R^2
        (lambda: _half_annulus(200, 200, 70, 90), None, 1 - 70**2 / 90**2),
    ],
)
def test_elongation_and_solidity_of_known_shapes(shape, elongation, solidity):
    e, s = regions.elongation_solidity(shape().astype(np.uint8))
    if elongation is not None:
        assert e == pytest.approx(elongation, rel=0.05)
    assert s == pytest.approx(solidity, abs=0.03)


@pytest.mark.parametrize(
    "shape, expected",
    [
        (lambda: disc_mask(200, 150, 30), 30.0),  # a disc: 2 pi r^2 / (2 pi r) = r
        (lambda: _box(100, 104, 40, 360), 4.0),  # a 4 x 320 band: ~ its width
        (lambda: _box(120, 180, 80, 320), 2 * 60 * 240 / (2 * 60 + 2 * 240)),  # 60 x 240: 2 A / P
    ],
)
def test_thickness_of_known_shapes(shape, expected):
    """regions.thickness is 2 A / P: a disc's radius, a long band's width."""
    assert regions.thickness(shape().astype(np.uint8)) == pytest.approx(expected, rel=0.06)


def test_shading_bands_are_not_macules():
    """The shading of a face's relief darkens long or curved bands (the side of the nose, an eye
    socket): as dark as a macule and as large, but not circumscribed. Only the disc counts."""
    lab = canvas()
    disc = disc_mask(80, 150, 16)  # 804 px
    arc = _half_annulus(230, 170, 40, 48)  # ~1106 px, solidity 0.31
    bar = _box(30, 42, 150, 370)  # 12 x 220 px, elongation 18
    for region in (disc, arc, bar):
        lab[region, 0] -= 12
    f = run(lab)
    assert f["dark_macule_count"] == 1
    assert f["dark_macule_area_fraction"] == pytest.approx(disc.mean(), rel=0.15)


def test_an_edge_s_shade_is_not_a_macule():
    """With a face or a head box, lesions are looked for inside its outline and off its features
    (an eye: a dark disc); a dark, browner spot that runs into that edge is the edge's shade (an
    eye socket, a nostril, the jaw's or an ear's shadow), the same spot well inside a macule.
    Without the rule the two others would count too."""
    from triage.measure.face import HeadBox
    from triage.measure.features import Measurements

    lab = canvas(noise=0.7, seed=3)
    eye = disc_mask(100, 100, 20)
    outline = disc_mask(200, 150, 140)  # the face's outline
    near_eye, near_outline, inside = disc_mask(100, 128, 12), disc_mask(320, 210, 12), disc_mask(230, 170, 12)
    for spot in (near_eye, near_outline, inside):
        lab[spot] += (-14.0, 1.0, 7.0)  # darker and browner: more melanin
    lab[eye] = (30.0, 5.0, 5.0)
    lin = np.clip(color.lab_to_linear(lab), 1e-4, 1).astype(np.float32)
    box = HeadBox(outline, 0, eye)
    m = Measurements(lin, color.linear_to_lab(lin), np.ones((H, W), bool), head=box)
    assert (near_outline & ~outline).any() and (near_outline & outline).sum() > 200  # it crosses the edge
    assert m.macule_count == 1 and m.macules[inside].mean() > 0.9
    assert not (m.macules & (near_eye | near_outline)).any()
    m.searched = None  # the rule off (the search area stays the box's): the spots' searched parts are macules
    off = detect.macule_regions(m)[0]
    assert off[near_eye].mean() > 0.5 and off[near_outline & outline].mean() > 0.5


def _face_of_scale(px_per_mm: float):
    """A parsed face (face.FaceMap) with no regions, all of the frame inside its outline, whose
    eye centres are px_per_mm * FACE_INTEROCULAR_MM apart: the photo's scale and nothing else."""
    from triage.measure import config
    from triage.measure.face import LEFT_EYE, RIGHT_EYE, Face, FaceMap

    marks = np.zeros((468, 2), np.float32)
    marks[RIGHT_EYE] = (40.0, 20.0)
    marks[LEFT_EYE] = (40.0 + px_per_mm * config.FACE_INTEROCULAR_MM, 20.0)
    face = Face(marks, None, 1.0, 0.0, px_per_mm * config.FACE_INTEROCULAR_MM)  # a frontal face: 3-D = 2-D
    none = np.zeros((H, W), bool)
    return FaceMap(face, np.zeros((H, W), np.uint8), ~none, none, none)


def test_a_lone_mole_sized_spot_on_a_face_is_not_a_patch():
    """At 4 px/mm (known from a face's eyes), a 3-mm dark brown spot is a mole's size: alone,
    or with one other, not a dark patch; four such spots are a pattern and all count; a 7-mm
    patch counts beside a 3-mm spot. Without a face (no scale) every spot counts."""
    from triage.measure.features import Measurements

    small = [(60, 60), (330, 60), (60, 240), (330, 240)]  # 3 mm: radius 6 px
    big = (200, 150)  # 7 mm: radius 14 px

    def macules(spots, face):
        lab = canvas(noise=0.7, seed=5)
        for (cx, cy), r in spots:
            lab[disc_mask(cx, cy, r)] += (-14.0, 1.0, 7.0)  # darker and browner: more melanin
        lin = np.clip(color.lab_to_linear(lab), 1e-4, 1).astype(np.float32)
        return Measurements(lin, color.linear_to_lab(lin), np.ones((H, W), bool), face=face).macule_count

    face = _face_of_scale(4.0)
    assert macules([(small[0], 6)], face) == 0 and macules([(small[0], 6)], None) == 1
    assert macules([(p, 6) for p in small[:2]], face) == 0
    assert macules([(p, 6) for p in small], face) == 4
    assert macules([(small[0], 6), (big, 14)], face) == 1 and macules([(small[0], 6), (big, 14)], None) == 2


def test_a_shade_without_blood_is_not_a_bruise(monkeypatch):
    """On dark skin (L* 40), a greyish-brown shade (linear RGB x (0.56, 0.44, 0.42): a beard's
    shade or a shadow, more melanin, hemoglobin +0.13) is darker, bluer and a little redder than
    the skin as a bruise is, but holds no blood; a bruise of deoxygenated blood (d = 0.6:
    hemoglobin +0.3, chromophores.SIGMA_DEOXY) of the same size is found. With the hemoglobin
    rule off the shade is a bruise too."""
    from triage.measure import config
    from triage.measure.chromophores import SIGMA_DEOXY

    rng = np.random.default_rng(6)
    dark = np.empty((H, W, 3), np.float32)
    dark[:] = (40.0, 14.0, 20.0)
    dark += rng.normal(0, 0.25, dark.shape).astype(np.float32)
    base = np.clip(color.lab_to_linear(dark), 1e-4, 1).astype(np.float32)
    blotch = disc_mask(200, 150, 50)

    def bruise_area(gain):
        lin = base.copy()
        lin[blotch] *= gain
        return run_linear(lin)["bruise_area_fraction"]

    shade, blood = np.array([0.56, 0.44, 0.42], np.float32), np.exp(-0.6 * SIGMA_DEOXY).astype(np.float32)
    assert bruise_area(blood) == pytest.approx(blotch.mean(), rel=0.15)
    assert bruise_area(shade) == 0.0
    monkeypatch.setattr(config, "BRUISE_MIN_DELTA_HEMOGLOBIN", -np.inf)
    assert bruise_area(shade) > 0.7 * blotch.mean()  # its fainter rim falls below the Lab limits


def test_an_edge_s_rim_is_not_a_papule():
    """Red bumps of papule size: one running into a feature's margin (a nostril's or an ear's
    rim) and one into the face's outline are that edge's colour; the same bump well inside is a
    papule. With the rule off every one counts."""
    import cv2

    from triage.measure import config
    from triage.measure.face import HeadBox
    from triage.measure.regions import disk
    from triage.measure.features import Measurements

    lab = canvas(noise=0.7, seed=4)
    nostril = disc_mask(100, 100, 20)
    outline = disc_mask(200, 150, 140)
    near_nostril, near_outline, inside = disc_mask(100, 125, 6), disc_mask(326, 203, 6), disc_mask(230, 170, 6)
    for bump in (near_nostril, near_outline, inside):
        lab[bump, :2] += (-4.0, 12.0)  # redder and darker, as blood is
    lab[nostril] = (30.0, 5.0, 5.0)
    lin = np.clip(color.lab_to_linear(lab), 1e-4, 1).astype(np.float32)
    box = HeadBox(outline, 0, nostril)
    m = Measurements(lin, color.linear_to_lab(lin), np.ones((H, W), bool), head=box)
    edge = cv2.dilate((~m.enclosed_core).view(np.uint8), disk(config.SEARCH_EDGE_PX)).view(bool) & m.core
    assert (edge & near_nostril).any() and (edge & near_outline).any()  # each bump reaches an edge
    found = detect.papules(m)
    assert len(found) == 1 and np.hypot(*(found[0] - (230, 170))) < 2
    m.searched = None  # the rule off (the search area stays the box's)
    assert len(detect.papules(m)) == 3


def _pustule(lab, cx, cy, r=6):
    halo = disc_mask(cx, cy, 3 * r) & ~disc_mask(cx, cy, r)
    lab[halo, 1] += 10
    top = disc_mask(cx, cy, r)
    lab[top] = (85.0, 4.0, 30.0)


def golden_pustules():
    lab = canvas()
    pts = [(60, 60), (200, 60), (340, 60), (60, 240), (200, 240)]
    for p in pts:
        _pustule(lab, *p)
    lab[disc_mask(340, 240, 6)] = (85.0, 0.0, 8.0)  # a white glint without red halo: not a pustule
    # sheen on a red bump: as bright a top in as red a halo, but the illuminant's white mixed
    # into the bump's colour (half and half) leaves it less yellow than the halo, not more
    _pustule(lab, 340, 150)
    lab[disc_mask(340, 150, 6)] = (85.0, (SKIN[1] + 10) / 2, SKIN[2] / 2)
    assert run(lab)["pustule_count"] == 5


def golden_vesicles():
    """Four clear blisters on a red base, within 40 px of each other: a group. Two more far apart
    (alone, not grouped), and a group of yellow tops (pustules, not vesicles)."""
    lab = canvas()

    def blister(cx, cy, top=(88.0, 2.0, 6.0)):
        halo = disc_mask(cx, cy, 12) & ~disc_mask(cx, cy, 4)
        lab[halo, 1] += 10
        lab[disc_mask(cx, cy, 4)] = top

    for p in [(60, 60), (90, 70), (75, 95), (105, 100)]:
        blister(*p)
    for p in [(330, 60), (330, 250)]:
        blister(*p)
    for p in [(200, 200), (228, 210), (214, 236)]:
        blister(*p, top=(85.0, 4.0, 30.0))
    f = run(lab)
    assert f["vesicle_count"] == 4
    assert f["pustule_count"] == 3


def golden_hemoglobin():
    """Skin painted from its chromophores (triage.measure.chromophores): the index reads back the
    hemoglobin painted, whatever the exposure and the melanin, and shading does not move it."""
    from triage.measure.chromophores import OD_BASE, SIGMA_HEMOGLOBIN, SIGMA_MELANIN

    yy = np.mgrid[0:H, 0:W][0]
    shading = (0.6 + 0.4 * yy / H)[..., None]  # light falling off across the frame
    for h, melanin, exposure in [(0.25, 0.5, 1.0), (0.6, 0.5, 1.0), (0.25, 2.0, 0.5), (0.6, 2.0, 1.3)]:
        lin = np.exp(-(OD_BASE + melanin * SIGMA_MELANIN + h * SIGMA_HEMOGLOBIN)) * exposure * shading
        lin = np.clip(lin, 0, 1).astype(np.float32)
        f = run_linear(lin)
        assert f["hemoglobin_index"] == pytest.approx(h, abs=0.01)


def golden_crusts():
    """Two overlapping honey-coloured discs are one crust; a lock of blonde hair as honey-hued
    (a 3-px strand 240 px long, 720 px: seven times the least crust area) is not."""
    lab = canvas()
    crust = disc_mask(200, 150, 30) | disc_mask(225, 160, 25)
    lab[crust] = (62.0, 18.0, 55.0)  # honey: hue 72 deg, chroma 58 vs skin 20
    lab[60:63, 60:300] = (62.0, 18.0, 55.0)
    f = run(lab)
    assert f["crust_area_fraction"] == pytest.approx(crust.mean(), rel=0.1)
    assert run(canvas())["crust_area_fraction"] == 0.0


def test_shadows_are_not_pigment():
    """A shadow of the face's relief darkens the skin and greys it (chroma falls with it); pigment
    darkens it and browns it. Of two discs 12 L* darker, only the browner one is a macule."""
    lab = canvas()
    shadow, brown = disc_mask(110, 150, 18), disc_mask(290, 150, 18)
    lab[shadow] = (SKIN[0] - 12, SKIN[1] * 0.8, SKIN[2] * 0.8)
    lab[brown] = (SKIN[0] - 12, SKIN[1], SKIN[2] + 4)
    f = run(lab)
    assert f["dark_macule_count"] == 1
    assert f["dark_macule_area_fraction"] == pytest.approx(brown.mean(), rel=0.15)


def golden_bleeding():
    lab = canvas()
    pts = [(40 + 45 * i, 60 + 80 * (i % 3)) for i in range(7)]
    for p in pts:
        lab[disc_mask(*p, 2)] = (30.0, 45.0, 30.0)
    # hair follicles in a crease: dark-red specks, but hardly darker or redder than the shadow
    # right around them (dark against the wider skin, so they pass the local-mean tests)
    for cx in (100, 200, 300):
        lab[disc_mask(cx, 268, 7), :2] += (-14.0, 3.0)
        lab[disc_mask(cx, 268, 1)] = (SKIN[0] - 18, SKIN[1] + 5, SKIN[2])
    assert run(lab)["bleeding_spot_count"] == 7


def _bumps(pts, sigma=6.0):
    """Sum of Gaussian bumps of height 1 at pts, (H, W, 1)."""
    yy, xx = np.mgrid[0:H, 0:W]
    return sum(np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)) for cx, cy in pts)[..., None]


def golden_papules():
    """Five bumps of blood (hemoglobin added by Beer-Lambert: a* up ~15, L* down ~5 at the top)."""
    from triage.measure.chromophores import SIGMA_HEMOGLOBIN

    pts = [(70, 70), (200, 80), (330, 90), (120, 220), (280, 220)]
    lin = np.clip(color.lab_to_linear(canvas()), 1e-4, 1) * np.exp(-0.5 * SIGMA_HEMOGLOBIN * _bumps(pts))
    f = run_linear(lin)
    assert f["papule_count"] == 5


def test_a_warm_highlight_is_not_a_papule(monkeypatch):
    """Warm light on a curve of the nose or a cheek: as red against the skin around it as a
    papule, but brighter, where blood darkens. None counts; with the darkening test off, all do."""
    from triage.measure import config

    pts = [(70, 70), (200, 80), (330, 90), (120, 220), (280, 220)]
    lin = np.clip(color.lab_to_linear(canvas()), 1e-4, 1) * (1 + _bumps(pts) * np.array([0.45, 0.12, 0.08]))
    lin = np.clip(lin, 0, 1).astype(np.float32)
    lab = color.linear_to_lab(lin)
    assert np.all(lab[70, 70] - lab[0, 0] > (1.0, 5.0, -np.inf))  # redder and brighter at the top
    assert run_linear(lin)["papule_count"] == 0
    monkeypatch.setattr(config, "PAPULE_MIN_DARKENING", -np.inf)
    assert run_linear(lin)["papule_count"] == 5


def golden_track():
    lab = canvas()
    for k in range(8):  # one row of 8 dots, 16 px apart: the 6 inner dots have a neighbour each side
        lab[disc_mask(80 + 16 * k, 150, 2), 1] += 25
    assert run(lab)["track_aligned_dots"] == 6
    scattered = canvas()
    for p in [(50, 50), (350, 60), (200, 250), (90, 230), (300, 170)]:
        scattered[disc_mask(*p, 2), 1] += 25
    assert run(scattered)["track_aligned_dots"] == 0


def golden_bruise():
    lab = canvas()
    b = disc_mask(200, 150, 60)
    lab[b] += (-12.0, 5.0, -5.0)  # deoxygenated blood: darker than its redness explains, bluer
    f = run(lab)
    assert f["bruise_area_fraction"] == pytest.approx(b.mean(), rel=0.15)
    ery = canvas()
    ery[b] += (-4.0, 10.0, -2.0)  # erythema of the same redness is not a bruise
    assert run(ery)["bruise_area_fraction"] == 0.0


def golden_texture():
    """White noise of sigma s in log-luminance: the residual after a sigma-2 Gaussian has
    standard deviation s * sqrt(1 - 1/(4 pi 2^2) * 2 + 1/(4 pi 2^2)) ~ 0.98 s."""
    rng = np.random.default_rng(5)
    lin = np.full((H, W, 3), 0.3, np.float32)
    s = 0.05
    lin *= np.exp(rng.normal(0, s, (H, W)))[..., None].astype(np.float32)
    f = run_linear(lin)
    assert f["texture_roughness"] == pytest.approx(s * math.sqrt(1 - 1 / (8 * math.pi * 4)), rel=0.06)


def golden_ita_and_skin_fraction():
    """Chardon bands: textured patches of known L*, b* on a neutral grey surround, through the
    whole measuring pipeline (white balance, skin segmentation, reference)."""
    from triage.measure.photo import measure

    rng = np.random.default_rng(2)
    for L, b in [(75, 12), (66, 15), (60, 16), (53, 17), (45, 17), (34, 16)]:
        lab = np.empty((480, 640, 3), np.float32)
        lab[:] = (60.0, 0.0, 0.0)
        patch = np.zeros((480, 640), bool)
        patch[60:420, 100:540] = True
        lab[patch] = (L, 10.0, b)
        lab[patch] += rng.normal(0, 1.0, (patch.sum(), 3)).astype(np.float32)
        rgb = (color.linear_to_srgb(color.lab_to_linear(lab)) * 255 + 0.5).astype(np.uint8)
        m = measure(rgb)
        assert m.features["ita_deg"] == pytest.approx(float(color.ita_deg(L, b)), abs=1.5)
        assert ita_band(m.features["ita_deg"]) == ita_band(float(color.ita_deg(L, b)))
        assert m.features["skin_fraction"] == pytest.approx(patch.mean(), abs=0.02)


def golden_cheek_asymmetry():
    """A real portrait (conftest.PORTRAIT) with one cheek painted 9 a* units redder: the
    asymmetry rises by those 9 units, against the face's usual cheek-to-cheek difference."""
    from conftest import PORTRAIT
    from test_face import paint_redness

    from triage.measure import face
    from triage.measure.io import load_image
    from triage.measure.photo import measure

    img = load_image(PORTRAIT)
    m0 = measure(img.rgb)
    cheek = (m0.face.regions == face.REGIONS.index("left_cheek")) & m0.face.inside & m0.skin
    m1 = measure(paint_redness(img.rgb, cheek, 9.0))
    before, after = m0.features["cheek_redness_asymmetry"], m1.features["cheek_redness_asymmetry"]
    assert before < 3.0
    assert after == pytest.approx(before + 9.0, abs=2.0) or after == pytest.approx(9.0 - before, abs=2.0)
    assert run(canvas())["cheek_redness_asymmetry"] == 0.0  # no face, no cheeks


GOLDEN = {
    "ita_deg": golden_ita_and_skin_fraction,
    "skin_fraction": golden_ita_and_skin_fraction,
    "redness_delta_a": golden_redness,
    "erythema_index_delta": golden_erythema_index,
    "redness_area_fraction": golden_strong_vs_mild,
    "redness_strong_area_fraction": golden_strong_vs_mild,
    "redness_largest_region_fraction": golden_strong_vs_mild,
    "redness_spread": golden_redness,
    "melanin_index_delta": golden_melanin_index,
    "dark_macule_count": golden_macules,
    "dark_macule_area_fraction": golden_macules,
    "pigment_delta_L": golden_macules,
    "ita_drop_deg": golden_macules,
    "pustule_count": golden_pustules,
    "vesicle_count": golden_vesicles,
    "hemoglobin_index": golden_hemoglobin,
    "cheek_redness_asymmetry": golden_cheek_asymmetry,
    "crust_area_fraction": golden_crusts,
    "bleeding_spot_count": golden_bleeding,
    "papule_count": golden_papules,
    "track_aligned_dots": golden_track,
    "bruise_area_fraction": golden_bruise,
    "texture_roughness": golden_texture,
}


@pytest.mark.parametrize("check", sorted(set(GOLDEN.values()), key=lambda f: f.__name__), ids=lambda f: f.__name__)
def test_golden(check):
    check()


def test_registry_complete():
    """Every feature has a unit, a docstring with its formula and a reference, and a golden test."""
    assert set(REGISTRY) == set(GOLDEN), set(REGISTRY) ^ set(GOLDEN)
    for name, feat in REGISTRY.items():
        assert feat.unit, name
        assert "Formula:" in feat.doc and "Reference:" in feat.doc, name
        assert len(feat.doc.splitlines()[0]) > 10, name


def test_no_skin_gives_nulls_and_values_are_finite(photo):
    empty = np.zeros((H, W), bool)
    lin = np.full((H, W, 3), 0.3, np.float32)
    f = run_linear(lin, empty)
    assert f["skin_fraction"] == 0.0 and all(v is None for k, v in f.items() if k != "skin_fraction")
    from triage.measure.photo import measure

    for v in measure(photo).features.values():
        assert v is None or math.isfinite(v)


# --- monotonicity and invariance on generated photos ---------------------------------------------
def _spec(**kw):
    from dataclasses import replace

    spec = synth.sample_spec(np.random.default_rng([4, 2]), 0)
    base = dict(scenario="expected_healing", erythema_grade=0, erythema_pattern="diffuse", pustules=0, crusts=0,
                papules=0, track_marks=0, bleeding_spots=0, pigment_macules=0, bruise=False, flaking=False,
                quality_issue="", exposure=1.0, blur=0.3, noise=0.004, hair=False, clothing=False, skin_extent=0.8,
                wb_gains=(1.0, 1.0, 1.0), melanin=0.9, hemoglobin=0.25)  # fmt: skip
    base.update(kw)
    return replace(spec, **base)


def _measure_spec(spec, seed=1):
    from triage.measure.photo import measure

    rgb, _skin, _t = synth.render(spec, (640, 480), np.random.default_rng(seed))
    return measure(rgb).features


@pytest.mark.parametrize("melanin", [0.3, 1.4, 2.4])
def test_redness_rises_with_erythema_grade(melanin):
    vals = [_measure_spec(_spec(erythema_grade=g, melanin=melanin)) for g in (0, 2, 4)]
    for name in ("redness_delta_a", "erythema_index_delta", "redness_area_fraction"):
        seq = [v[name] for v in vals]
        assert seq[0] < seq[1] < seq[2], (name, seq)


def test_pigment_rises_with_macules():
    vals = [_measure_spec(_spec(pigment_macules=n, days_since_treatment=9), seed=2) for n in (0, 3, 8)]
    for name in ("dark_macule_area_fraction", "dark_macule_count"):
        seq = [v[name] for v in vals]
        assert seq[0] <= seq[1] < seq[2], (name, seq)
    assert vals[0]["dark_macule_count"] == 0


@pytest.mark.parametrize("gains,exposure", [((1.12, 1.0, 0.86), 1.0), ((0.88, 1.0, 1.14), 1.0), ((1.0, 1.0, 1.0), 0.8)])
def test_features_nearly_invariant_to_white_balance_and_exposure(gains, exposure):
    """Same scene, other illuminant or exposure: relative features move little.
    Tolerances: redness delta a* within 1.5 units, areas within 0.05; ITA within 6 deg under
    another white balance. ITA is absolute: exposure changes L* and so ITA, and without a
    colour chart in the photo nothing can tell a darker exposure from darker skin."""
    spec = _spec(erythema_grade=2, background=(0.7, 0.7, 0.7))
    base = _measure_spec(spec)
    other = _measure_spec(_spec(erythema_grade=2, background=(0.7, 0.7, 0.7), wb_gains=gains, exposure=exposure))
    assert other["redness_delta_a"] == pytest.approx(base["redness_delta_a"], abs=1.5)
    assert other["redness_area_fraction"] == pytest.approx(base["redness_area_fraction"], abs=0.05)
    if exposure == 1.0:
        assert other["ita_deg"] == pytest.approx(base["ita_deg"], abs=6.0)
    else:
        assert other["ita_deg"] < base["ita_deg"]  # underexposed skin reads darker, as it should
