"""The quality gate on generated photos whose capture fault is known, and on a few made by hand."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from triage import synth
from triage.measure import config
from triage.measure.photo import measure
from triage.measure.quality import collage_seams


def render_with(issue: str, seed: int = 5, size=(800, 600), **changes):
    """A generated photo with one capture fault (or none); `changes` override spec fields (skin
    colour, exposure) before the fault is applied."""
    spec = synth.sample_spec(np.random.default_rng([seed, 0]), 0)
    spec = replace(spec, quality_issue="", exposure=1.0, blur=0.3, noise=0.004, skin_extent=0.8, wb_gains=(1.0, 1.0, 1.0))
    spec = replace(spec, **changes)
    y_skin = ((synth.skin_lab(spec.melanin, spec.hemoglobin)[0] + 16) / 116) ** 3  # skin luminance
    spec = replace(spec, background=(0.55, 0.57, 0.6), clothing=False)
    if issue == "too_dark":
        spec = replace(spec, exposure=0.008 / y_skin)
    elif issue == "overexposed":
        spec = replace(spec, exposure=1.8 / y_skin)
    elif issue == "blurry":
        spec = replace(spec, blur=9.0)
    elif issue == "no_skin":
        spec = replace(spec, skin_extent=0.08)
    elif issue == "low_resolution":
        size = (300, 225)
    rgb, _skin, _t = synth.render(spec, size, np.random.default_rng(seed))
    return rgb


@pytest.mark.parametrize("issue", ["too_dark", "overexposed", "blurry", "no_skin", "low_resolution"])
@pytest.mark.parametrize("seed", [5, 6])
def test_generated_capture_faults_are_caught(issue, seed):
    rgb = render_with(issue, seed)
    q = measure(rgb, (rgb.shape[1], rgb.shape[0])).quality
    assert not q.ok and issue in q.issues, q.issues


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_good_photos_pass(seed):
    rgb = render_with("", seed)
    q = measure(rgb, (rgb.shape[1], rgb.shape[0])).quality
    assert q.ok, q.issues


@pytest.mark.parametrize("seed", [5, 6])
def test_small_photo_is_judged_at_its_own_resolution(seed):
    """A 480-px photo as small cameras deliver it (soft at its own pixel scale: anti-alias filter,
    demosaicing, JPEG; sigma 1 px), enlarged to the working size by measure.io, is not blurry; the
    same photo out of focus still is."""
    from triage.measure.io import decode

    def small(rgb):
        rgb = cv2.GaussianBlur(cv2.resize(rgb, (480, 360), interpolation=cv2.INTER_AREA), (0, 0), 1.0)
        return decode(cv2.imencode(".png", rgb[..., ::-1])[1].tobytes())  # OpenCV writes BGR

    img = small(render_with("", seed, (1024, 768)))
    assert (img.width, img.height, img.rgb.shape[1]) == (480, 360, 1024)
    q = measure(img.rgb, (img.width, img.height)).quality
    assert "blurry" not in q.issues, q.issues
    img = small(render_with("blurry", seed, (1024, 768)))
    assert "blurry" in measure(img.rgb, (img.width, img.height)).quality.issues


@pytest.mark.parametrize("seed", [5, 6])
def test_red_channel_clipped_on_red_skin_is_not_overexposed(seed):
    """Strongly red skin (hemoglobin 0.6) exposed to skin Y = 0.5: red saturates on 40-70% of the
    skin, green and blue do not (a flash close-up of erythema): lightness and detail are there."""
    spec = synth.sample_spec(np.random.default_rng([seed, 0]), 0)
    y_skin = ((synth.skin_lab(spec.melanin, 0.6)[0] + 16) / 116) ** 3
    m = measure(render_with("", seed, hemoglobin=0.6, exposure=0.5 / y_skin))
    red = m.normalised.linear[..., 0][m.skin] >= config.CLIP_LEVEL
    assert 0.3 < red.mean() < config.MAX_ANY_CLIPPED_SKIN_FRACTION
    assert "overexposed" not in m.quality.issues, m.quality.issues


@pytest.mark.parametrize("exposure", [1.0, 1.3])
@pytest.mark.parametrize("seed", [6, 7])
def test_skin_exposed_to_the_clip_level_is_overexposed(seed, exposure):
    """Skin luminance Y at or above 1: what the mask keeps is a rim with red clipped all over it
    (green mostly not), and that is overexposed."""
    spec = synth.sample_spec(np.random.default_rng([seed, 0]), 0)
    y_skin = ((synth.skin_lab(spec.melanin, spec.hemoglobin)[0] + 16) / 116) ** 3
    rgb = render_with("", seed, exposure=exposure / y_skin)
    q = measure(rgb).quality
    assert "overexposed" in q.issues, q.issues


@pytest.mark.parametrize("seed", [7, 8])
def test_warm_rendered_skin_is_not_a_colour_cast(seed):
    """Skin rendered yellow (hue 81-82 deg, a* ~3.5, b* ~22) against a neutral background, like
    the warm studio portraits of real photo sets, is no colour cast."""
    m = measure(render_with("", seed, melanin=0.2, hemoglobin=0.02))
    px = m.normalised.lab[m.skin]
    hue = np.degrees(np.arctan2(np.median(px[:, 2]), np.median(px[:, 1])))
    assert 80 < hue < 83  # above the 80 deg once taken for a cast
    assert m.quality.ok, m.quality.issues


def test_grayscale_and_colour_cast(photo):
    gray = np.repeat(photo.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    q = measure(gray).quality
    assert "grayscale" in q.issues and not q.ok
    green = np.clip(photo.astype(float) * (0.35, 1.0, 0.35), 0, 255).astype(np.uint8)  # a strong green cast
    q = measure(green).quality
    assert "color_cast" in q.issues or "no_skin" in q.issues


def test_quality_failure_is_never_normal(model):
    from triage.pipeline import analyze

    rgb = render_with("too_dark")
    row = analyze(rgb, days_since_treatment=2, model=model).to_dict()
    assert not row["quality"]["ok"] and row["label"] != "normal"
    assert "retake" in row["explanation"]["summary"].lower() or "brighter" in row["explanation"]["summary"]


def _tiles(seeds, size=(512, 384)):
    return [render_with("", s, size) for s in seeds]


@pytest.mark.parametrize("cx,cy", [(512, 384), (300, 500)])
def test_four_photos_in_one_frame_are_a_collage(cx, cy):
    """A mosaic of four good generated photos meeting at (cx, cy), as photo apps and dataset
    exports make them: each photo alone passes, the collage is flagged, and never normal."""
    from triage.pipeline import analyze

    a, b, c, d = _tiles([5, 6, 7, 8], (1024, 768))
    mosaic = np.empty_like(a)
    mosaic[:cy, :cx] = a[:cy, :cx]
    mosaic[:cy, cx:] = b[:cy, cx:]
    mosaic[cy:, :cx] = c[cy:, :cx]
    mosaic[cy:, cx:] = d[cy:, cx:]
    assert all("collage" not in measure(t, (1024, 768)).quality.issues for t in (a, b, c, d))
    m = measure(mosaic, (1024, 768))
    assert "collage" in m.quality.issues and not m.quality.ok
    x, y = collage_seams(m.normalised.lab, m.skin)
    assert abs(x - cx) <= 2 and abs(y - cy) <= 2  # where the four pictures meet
    assert analyze(mosaic).label != "normal"


def test_one_straight_edge_is_not_a_collage():
    """A towel with a straight edge across the frame is one seam, but skin lies on one side only."""
    (a,) = _tiles([5], (1024, 768))
    a[540:] = (70, 90, 160)  # a blue towel over the lower part of the frame
    m = measure(a, (1024, 768))
    assert "collage" not in m.quality.issues and collage_seams(m.normalised.lab, m.skin) is None


def test_skin_coloured_hem_near_the_edge_is_not_a_collage():
    """A skin-coloured garment whose straight hem crosses the lower fifth of the frame: skin (as
    far as colour tells) on both sides of a straight seam, but no picture is that thin."""
    (a,) = _tiles([5], (1024, 768))
    a[618:] = np.clip(a[300:450] * np.array([1.15, 0.85, 0.85]), 0, 255).astype(np.uint8)  # pinker
    m = measure(a, (1024, 768))
    assert m.skin[630:].mean() > 0.9  # the mask takes the garment for skin
    assert "collage" not in m.quality.issues


@pytest.mark.parametrize("seeds", [(5, 6), (7, 8)])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_two_photos_side_by_side_are_a_collage(seeds, axis):
    """Two people's photos side by side, or one above the other (before/after composites): one
    seam, cutting through skin. Each photo alone passes; the pair is flagged where they meet."""
    a, b = _tiles(seeds, (1024, 768))
    if axis == "x":
        pair, where = np.hstack([a[:, 256:768], b[:, 256:768]]), (512, None)
    else:
        pair, where = np.vstack([a[192:576], b[192:576]]), (None, 384)
    assert all("collage" not in measure(t, (1024, 768)).quality.issues for t in (a, b))
    m = measure(pair, (1024, 768))
    assert "collage" in m.quality.issues and not m.quality.ok
    found = collage_seams(m.normalised.lab, m.skin)
    assert [f is None for f in found] == [w is None for w in where]
    assert all(abs(f - w) <= 2 for f, w in zip(found, where) if w is not None)
