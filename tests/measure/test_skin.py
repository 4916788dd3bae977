"""Skin segmentation against masks whose truth is known: the generator's, and drawn shapes."""

from __future__ import annotations

import numpy as np

from triage import synth
from triage.measure import color, skin
from triage.measure import io as tio
from triage.measure.normalise import normalise
from triage.measure.photo import skin_mask


def _mask_of(data: bytes) -> np.ndarray:
    return skin.skin_mask_lab(normalise(tio.decode(data).rgb).lab)


def test_intense_erythema_on_very_light_skin_stays_skin():
    """Grade-4 erythema on very light skin is pink-red with b* near 0 (hue ~2 deg), below the
    broad prior's hue range: it was left out of the mask, and the redness features saw nothing.
    It is the person's skin, redder: it must be in the mask."""
    data, truth, row = synth.make_photo(31, 81, (1024, 768))
    assert row["erythema_grade"] == 4 and row["ita_band"] == "very_light"
    m = _mask_of(data)
    missed = (truth & ~m).sum() / truth.sum()
    iou = (truth & m).sum() / (truth | m).sum()
    assert missed < 0.06 and iou > 0.93, (missed, iou)


def test_pink_and_magenta_backgrounds_are_not_skin():
    """Redder-than-skin pixels join the skin only with the person's own b* and L*: a magenta or
    pink backdrop touching the face stays out."""
    h, w = 480, 640
    yy, xx = np.mgrid[:h, :w]
    face = (xx - 320) ** 2 / 200**2 + (yy - 240) ** 2 / 170**2 < 1
    rng = np.random.default_rng(2)
    for backdrop in ((60.0, 45.0, -4.0), (50.0, 36.0, 1.0)):  # L*, a*, b* of generated backdrops
        lab = np.empty((h, w, 3), np.float32)
        lab[...] = backdrop
        lab[face] = (55.0, 13.0, 16.0)
        lab += rng.normal(0, 0.8, lab.shape).astype(np.float32)
        rgb = (color.linear_to_srgb(np.clip(color.lab_to_linear(lab), 0, 1)) * 255 + 0.5).astype(np.uint8)
        m = skin_mask(rgb)
        assert (m & ~face).sum() / (~face).sum() < 0.01
        assert (m & face).sum() / face.sum() > 0.95


def _rgb_of(lab: np.ndarray) -> np.ndarray:
    return (color.linear_to_srgb(np.clip(color.lab_to_linear(lab), 0, 1)) * 255 + 0.5).astype(np.uint8)


def test_a_larger_skin_coloured_backdrop_does_not_become_the_skin():
    """An orange wall around a brown-skinned subject passes the broad prior and is larger than
    the skin: the person's colour is learned where the photo is framed, and the wall stays out."""
    h, w = 480, 640
    yy, xx = np.mgrid[:h, :w]
    face = (xx - 320) ** 2 / 150**2 + (yy - 240) ** 2 / 130**2 < 1
    lab = np.empty((h, w, 3), np.float32)
    lab[...] = (55.0, 25.0, 45.0)  # orange: hue 61 deg, chroma 51
    lab[face] = (42.0, 12.0, 18.0)
    lab += np.random.default_rng(4).normal(0, 0.8, lab.shape).astype(np.float32)
    m = skin_mask(_rgb_of(lab))
    iou = (m & face).sum() / (m | face).sum()
    assert iou > 0.9, iou


def test_white_balance_never_turns_the_skin_green():
    """A purple-grey backdrop (chroma ~10) passes as 'neutral'; balancing on it would push pale
    skin to a* < 0, out of every skin tone. Such a correction is not applied."""
    h, w = 480, 640
    yy, xx = np.mgrid[:h, :w]
    face = (xx - 320) ** 2 / 170**2 + (yy - 240) ** 2 / 150**2 < 1
    lab = np.empty((h, w, 3), np.float32)
    lab[...] = (60.0, 9.0, -6.0)
    lab[face] = (83.0, 6.4, 11.0)
    lab += np.random.default_rng(5).normal(0, 0.6, lab.shape).astype(np.float32)
    norm = normalise(_rgb_of(lab))
    assert np.median(norm.lab[face][:, 1]) > 4.0
    assert skin.skin_mask_lab(norm.lab)[face].mean() > 0.95
