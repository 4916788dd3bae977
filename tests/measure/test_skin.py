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


def _head(hair_L: float):
    """A drawn head (Lab, 200 x 200): a face's outline (an ellipse) with brows, skin of L* 60 all
    around it, and above the brows a cap of 'hair' of the skin's hue at L* hair_L."""
    import cv2

    lab = np.zeros((200, 200, 3), np.float32)
    lab[:] = (60.0, 14.0, 16.0)
    rng = np.random.default_rng(0)
    lab += rng.normal(0, 1.0, lab.shape).astype(np.float32)
    inside = np.zeros((200, 200), np.uint8)
    cv2.ellipse(inside, (100, 110), (50, 70), 0, 0, 360, 1, -1)
    inside = inside.astype(bool)
    features = np.zeros((200, 200), bool)
    features[80:86, 70:95] = features[80:86, 105:130] = True  # brows: the top feature row is 80
    cap = (np.hypot(np.arange(200)[None, :] - 100, (np.arange(200)[:, None] - 110) * 50 / 70) < 75) & ~inside
    cap[80:] = False
    lab[cap] = (hair_L, 7.0, 8.0)
    med, sd = np.array([60.0, 14.0, 16.0]), np.array([2.0, 1.5, 1.5])
    return lab, inside, 80, cap, med, sd


def test_head_hair_is_learned_beside_the_face_and_taken_above_the_brows():
    """Truth drawn: a cap of darker hair above the brows outside the outline is found whole;
    nothing inside the outline or below the brows is taken."""
    lab, inside, brow_row, cap, med, sd = _head(hair_L=35.0)
    hair = skin.head_hair(lab, inside, brow_row, med, sd, among=np.ones(inside.shape, bool))
    assert hair[cap].mean() > 0.99
    assert not (hair & inside).any() and not hair[80:].any()
    assert not (hair & ~cap).any()  # the skin-coloured rest above the brows stays


def test_a_bald_head_loses_nothing():
    """No pixel beside the face is darker than the skin: no hair colour is learned, nothing taken."""
    lab, inside, brow_row, _cap, med, sd = _head(hair_L=60.0)
    assert not skin.head_hair(lab, inside, brow_row, med, sd, among=np.ones(inside.shape, bool)).any()


def test_a_profile_s_hair_is_not_skin_once_the_head_box_is_known():
    """Truth drawn: a head in profile, the back and top of it brown hair of the skin's hue (L*
    26, a* 4, b* 12, as measured on real profiles), the face and neck skin (L* 46, a* 11, b* 18).
    Learnt from the frame's centre, half hair, the person's colour spans both and the hair is
    'skin'; learnt inside the detector's box around the face (face.HeadBox), it is not."""
    import cv2

    from triage.measure.face import HeadBox

    h, w = 300, 240
    yy, xx = np.mgrid[:h, :w]
    head = ((xx - 120) / 95.0) ** 2 + ((yy - 140) / 120.0) ** 2 < 1
    face = head & (yy > 135) & (xx > 115)
    hair = head & ~face
    person = face | ((xx > 115) & (xx < 170) & (yy >= 200))  # and the neck
    lab = np.empty((h, w, 3), np.float32)
    lab[...] = (88.0, 0.5, 1.0)  # a light grey backdrop
    lab[hair] = (26.0, 4.0, 12.0)
    lab[person] = (46.0, 11.0, 18.0)
    lab += np.random.default_rng(7).normal(0, 1.0, lab.shape).astype(np.float32)
    lab = normalise(_rgb_of(lab)).lab
    box = np.zeros((h, w), np.uint8)
    cv2.ellipse(box, (160, 175), (45, 45), 0, 0, 360, 1, -1)  # the box's ellipse, on the face
    assert skin.skin_mask_lab(lab)[hair].mean() > 0.9  # the failure this mends
    m = skin.skin_mask_lab(lab, head=HeadBox(box.astype(bool), brow_row=130, unsearched=np.zeros((h, w), bool)))
    assert m[hair].mean() < 0.01
    assert m[person].mean() > 0.97


def test_a_pink_shirt_joining_the_neck_is_not_skin():
    """Truth drawn with the colours measured on a real portrait (SFA): a face's outline of skin
    (L* 50, a* 12, b* 11), the neck below it, and a pink-red shirt joining the neck (L* 45, a*
    43, b* 3: hue 4 deg, the hue of flushed light skin, 31 a* above the face). Redder-than-skin
    pixels of the person's b* and L* join their skin as a flush; beyond a face's outline they are
    clothing (before this rule, the shirt was skin and the redness features read it as +40 a*)."""
    from types import SimpleNamespace

    import cv2

    h, w = 300, 240
    yy, xx = np.mgrid[:h, :w]
    inside = ((xx - 120) / 60.0) ** 2 + ((yy - 100) / 80.0) ** 2 < 1
    person = inside | ((xx > 85) & (xx < 155) & (yy >= 150) & (yy < 230))  # and the neck
    shirt = (yy >= 230) & (xx > 20) & (xx < 220)
    lab = np.empty((h, w, 3), np.float32)
    lab[...] = (88.0, 0.5, 1.0)  # a light grey backdrop
    lab[person] = (50.0, 12.0, 11.0)
    lab[shirt] = (45.0, 43.0, 3.0)
    rng = np.random.default_rng(8)
    lab += rng.normal(0, 1.0, lab.shape).astype(np.float32)
    blotches = cv2.GaussianBlur(rng.normal(0, 1.0, (h, w, 3)).astype(np.float32), (0, 0), 4.0)
    lab[person] += (3.0 / blotches.std()) * blotches[person]  # mottling and shading: sd 3 in L*, a*, b*
    lab = normalise(_rgb_of(lab)).lab
    face = SimpleNamespace(inside=inside, features=np.zeros((h, w), bool))
    m = skin.skin_mask_lab(lab, face=face)
    assert m[shirt].mean() < 0.01
    assert m[person].mean() > 0.97
