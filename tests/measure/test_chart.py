"""ColorChecker: found where drawn, read in the right orientation, corrected toward the published
values, and never 'found' in a grid of squares that does not have the chart's colours."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from triage import synth
from triage.measure import chart, color
from triage.measure.normalise import normalise
from triage.measure.photo import measure, skin_mask

SIZE = (800, 600)


def _scene(index: int, chart_at, gains=(1.15, 1.0, 0.78), exposure=0.9):
    """A generated skin photo with a chart, and the same scene under neutral light and exposure 1
    (the truth the correction should restore), and the true skin mask."""
    spec = synth.sample_spec(np.random.default_rng([11, index]), index)
    spec.quality_issue, spec.blur, spec.chart = "", min(spec.blur, 1.0), chart_at
    spec.wb_gains, spec.exposure = gains, exposure
    neutral = copy.deepcopy(spec)
    neutral.wb_gains, neutral.exposure, neutral.noise, neutral.blur = (1.0, 1.0, 1.0), 1.0, 0.0, 0.0
    rgb, mask, _ = synth.render(spec, SIZE, np.random.default_rng([11, index, 1]))
    truth, _, _ = synth.render(neutral, SIZE, np.random.default_rng([11, index, 1]))
    return rgb, truth, mask


def _drawn_centres(chart_at) -> np.ndarray:
    _, patches = synth.chart_layout(*chart_at, max(SIZE))
    return patches.mean(axis=1)


@pytest.mark.parametrize("angle", [0.0, 90.0, 180.0, -135.0, 23.0])
def test_chart_found_in_reading_order_at_any_angle(angle):
    """Each of the 24 patches is located within a tenth of the pitch of where it was drawn, in the
    chart's own reading order (dark skin first), whichever way up the chart lies."""
    at = (0.5, 0.36, 0.055, angle)
    rgb, _, _ = _scene(1, at)
    found = chart.find(rgb, color.srgb_to_linear(rgb / 255.0))
    assert found is not None
    err = np.linalg.norm(found.centres - _drawn_centres(at), axis=1)
    assert err.max() < 0.1 * 0.055 * max(SIZE)


def test_chart_correction_restores_colour_under_a_cast():
    """A warm cast and under-exposure (skin Delta E*ab ~8 from the neutral render) are corrected
    to within 3 by the chart, and its grey patch comes out grey (|a*|, |b*| < 1.5)."""
    at = (0.3, 0.3, 0.05, 10.0)
    rgb, truth, mask = _scene(2, at)
    norm = normalise(rgb)
    assert norm.method == "colorchecker"
    true_skin = np.median(color.rgb8_to_lab(truth)[mask], axis=0)
    before = np.linalg.norm(np.median(color.rgb8_to_lab(rgb)[mask], axis=0) - true_skin)
    after = np.linalg.norm(np.median(norm.lab[mask], axis=0) - true_skin)
    assert before > 6 and after < 3
    x, y = np.rint(_drawn_centres(at)[21]).astype(int)  # 'neutral 5'
    assert np.all(np.abs(norm.lab[y - 3 : y + 4, x - 3 : x + 4, 1:].mean(axis=(0, 1))) < 1.5)


def test_chart_answer_is_the_same_every_time():
    rgb, _, _ = _scene(3, (0.6, 0.4, 0.045, -30.0))
    lin = color.srgb_to_linear(rgb / 255.0)
    first, second = chart.find(rgb, lin), chart.find(rgb, lin)
    assert np.array_equal(first.matrix, second.matrix) and np.array_equal(first.mask, second.mask)


def test_grid_of_squares_with_other_colours_is_not_a_chart(monkeypatch):
    """The chart's geometry with its patches shuffled: the lattice is found, the colours fail."""
    at = (0.5, 0.36, 0.055, 0.0)
    shuffled = chart.MACBETH_SRGB8[np.random.default_rng(0).permutation(24)]
    with monkeypatch.context() as m:
        m.setattr(chart, "MACBETH_SRGB8", shuffled)  # what draw_chart paints
        rgb, _, _ = _scene(4, at)
    lin = color.srgb_to_linear(rgb / 255.0)
    assert chart._lattice(chart._candidates(np.asarray(rgb.mean(axis=2), np.uint8))) is not None
    assert chart.find(rgb, lin) is None
    assert normalise(rgb).method != "colorchecker"


def test_no_chart_in_ordinary_photos(photo):
    rgb, _, _ = _scene(5, None)
    for img in (rgb, photo):
        assert chart.find(img, color.srgb_to_linear(img / 255.0)) is None


def test_chart_is_not_skin_and_the_row_says_colorchecker():
    """The chart's 'light skin' patch has skin's colour; it must not enter the skin mask, even when
    the chart is close to the camera and the patch as large as a patch of skin. The result row
    names the normalisation applied."""
    at = (0.5, 0.38, 0.12, 0.0)
    rgb, _, mask = _scene(6, at)
    x, y = np.rint(_drawn_centres(at)[1]).astype(int)  # 'light skin'
    got = skin_mask(rgb)
    assert not got[y - 5 : y + 6, x - 5 : x + 6].any()
    assert (got & mask).sum() > 0.8 * mask.sum()
    m = measure(rgb)
    assert m.normalised.method == "colorchecker" and not (m.skin & m.normalised.chart).any()
