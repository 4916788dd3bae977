"""The reactions of TRIAGE_POLICY.md painted as chromophore changes and lesion colours: the
person's melanin and hemoglobin maps (with freckles on light skin), the treated region and its
erythema (graded relative to the person's skin), and the lesions (`paint_lesions`, shared with
photos painted on real skin, triage.synth.canvas): pustules with a red halo, honey crusts,
papules, track marks, pinpoint bleeding, dark macules (PIH), bruises (deoxygenated blood) and
grouped vesicles."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .draw import blob_mask, disc, random_point, smooth_noise, stamp
from .optics import BLOOD, ERYTHEMA_DH, ERYTHEMA_MELANIN_GAIN
from .spec import PhotoSpec


@dataclass
class Reactions:
    melanin: np.ndarray  #: m (H, W)
    hemoglobin: np.ndarray  #: h (H, W), oxygenated
    deoxy: np.ndarray  #: d (H, W), deoxygenated (bruises)
    overlay: np.ndarray  #: linear RGB (H, W, 3) of lesions that are not chromophore changes
    overlay_a: np.ndarray  #: (H, W) their opacity
    treated: np.ndarray  #: bool (H, W): the treated region
    pigment: np.ndarray  #: (H, W) 0-1: the dark macules
    bruise: np.ndarray  #: (H, W) 0-1: the bruise


def paint(spec: PhotoSpec, skin_mask: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> Reactions:
    """The chromophore maps and lesion colours of a spec, on the skin of skin_mask."""
    w, h = size
    L = float(max(w, h))
    # chromophore maps
    m = spec.melanin * (1 + 0.07 * smooth_noise(rng, h, w, 6) + 0.03 * smooth_noise(rng, h, w, 30, 1))
    hb = spec.hemoglobin * (1 + 0.15 * smooth_noise(rng, h, w, 8))
    deoxy = np.zeros((h, w), np.float32)
    if spec.ita_target > 40 and rng.random() < 0.4:  # freckles on light skin
        for _ in range(int(rng.integers(10, 60))):
            p = (rng.uniform(0, w), rng.uniform(0, h))
            stamp(m, p[0], p[1], L * rng.uniform(0.002, 0.004), spec.melanin * 0.8 + 0.15)

    # the treated region and its erythema (relative to this person's skin)
    treat_cx, treat_cy = random_point(rng, skin_mask) or (w / 2, h / 2)
    area_share = rng.uniform(0.25, 0.5)
    skin_area = max(skin_mask.sum(), 1)
    radius = np.sqrt(area_share * skin_area / np.pi)
    treated_soft = blob_mask(rng, h, w, treat_cx, treat_cy, radius * rng.uniform(0.9, 1.3), radius * rng.uniform(0.8, 1.1))
    if spec.erythema_pattern == "patchy":
        treated_soft *= np.clip(0.8 + 1.5 * smooth_noise(rng, h, w, 10, 2), 0, 1)
    treated = (treated_soft > 0.5) & skin_mask
    dh = ERYTHEMA_DH[spec.erythema_grade] * (1 + ERYTHEMA_MELANIN_GAIN * spec.melanin)
    hb = hb + dh * treated_soft * (1 + 0.15 * smooth_noise(rng, h, w, 20, 1))

    lesion_zone = treated if treated.any() else skin_mask
    les = paint_lesions(spec, lesion_zone, skin_mask, hb, deoxy, L, spec.melanin, rng)
    if les.melanin is not None:
        m = m + les.melanin
    return Reactions(m, hb, deoxy, les.overlay, les.overlay_a, treated, les.pigment, les.bruise)


@dataclass
class Lesions:
    overlay: np.ndarray  #: linear RGB (H, W, 3) of lesions that are not chromophore changes
    overlay_a: np.ndarray  #: (H, W) their opacity
    pigment: np.ndarray  #: (H, W) 0-1: the dark macules
    bruise: np.ndarray  #: (H, W) 0-1: the bruise
    melanin: np.ndarray | None  #: melanin added by the macules, or None without any


def paint_lesions(
    spec: PhotoSpec, zone: np.ndarray, skin_mask: np.ndarray, hb: np.ndarray, deoxy: np.ndarray, L: float,
    melanin: float, rng: np.random.Generator,
) -> Lesions:  # fmt: skip
    """The spec's lesions, placed in `zone` (the treated region; a bruise anywhere on the skin):
    hemoglobin they add is stamped into `hb` and deoxygenated blood into `deoxy` (in place); the
    colours that replace the skin's (pustule tops, crusts, blood, blisters) are returned as an
    overlay. Sizes are fractions of L, the long side of a close-up about 12 cm across; amounts
    grow with the skin's melanin so that a lesion stands out as much on dark skin as on light."""
    h, w = zone.shape
    overlay = np.zeros((h, w, 3), np.float32)  # colour of lesions that are not chromophore changes
    overlay_a = np.zeros((h, w), np.float32)

    def place():
        return random_point(rng, zone)

    for _ in range(spec.pustules):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.005, 0.009)
        stamp(hb, p[0], p[1], 2.2 * r, 0.45 + 0.2 * melanin)
        disc(overlay, p[0], p[1], r, (0.93, 0.86, 0.55), soft=r * 0.3)
        disc(overlay_a, p[0], p[1], r, 1.0, soft=r * 0.3)
    for _ in range(spec.crusts):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.015, 0.035)
        blob = blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.5, 1.0), wobble=0.4)
        honey = np.array([0.80, 0.52, 0.14], np.float32) * (0.85 + 0.3 * smooth_noise(rng, h, w, 60, 1))[..., None]
        a = np.clip(blob * 1.5, 0, 1) * (blob > 0.05)
        overlay[:] = overlay * (1 - a[..., None]) + honey * a[..., None]
        overlay_a[:] = np.maximum(overlay_a, a)
        hb += 0.2 * cv2.GaussianBlur(blob, (0, 0), r * 0.5)
    for _ in range(spec.papules):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.007, 0.013)
        stamp(hb, p[0], p[1], r, 0.35 + 0.15 * melanin)
    for _ in range(spec.track_marks):
        p = place()
        if p is None:
            break
        ang = rng.uniform(0, np.pi)
        spacing = L * rng.uniform(0.012, 0.02)
        n_dots = int(rng.integers(6, 14))
        for k in range(n_dots):
            x = p[0] + (k - n_dots / 2) * spacing * np.cos(ang)
            y = p[1] + (k - n_dots / 2) * spacing * np.sin(ang)
            stamp(hb, x, y, L * 0.0025, 0.45 + 0.15 * melanin)
    for _ in range(spec.bleeding_spots):
        p = place()
        if p is None:
            break
        r = L * rng.uniform(0.0012, 0.0025)
        disc(overlay, p[0], p[1], r, BLOOD, soft=0.7)
        disc(overlay_a, p[0], p[1], r, 1.0, soft=0.7)
    pigment = np.zeros((h, w), np.float32)
    for _ in range(spec.pigment_macules):
        p = place()
        if p is None:
            break
        r = L * (rng.uniform(0.035, 0.06) if spec.pigment_marked else rng.uniform(0.012, 0.022))
        pigment = np.maximum(pigment, blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.6, 1.0), wobble=0.3))
    dm = pigment * (0.35 + 0.25 * melanin) * rng.uniform(0.9, 1.4) if spec.pigment_macules else None
    bruise_mask = np.zeros((h, w), np.float32)
    if spec.bruise:
        p = random_point(rng, skin_mask) or (w / 2, h / 2)
        r = L * (rng.uniform(0.16, 0.24) if spec.bruise_extensive else rng.uniform(0.03, 0.07))
        bruise_mask = blob_mask(rng, h, w, p[0], p[1], r, r * rng.uniform(0.5, 0.9), wobble=0.3)
        deoxy += bruise_mask * rng.uniform(0.5, 0.9)
    for _ in range(spec.vesicle_groups):
        p = place()
        if p is None:
            break
        _vesicle_group(overlay, overlay_a, hb, p, L, melanin, rng)
    return Lesions(overlay, overlay_a, pigment, bruise_mask, dm)


def _vesicle_group(overlay, overlay_a, hb, p, L: float, melanin: float, rng: np.random.Generator) -> None:
    """A cluster of 4-10 small clear blisters (radius 0.3-0.6% of L, within 3% of L of the
    group's centre) on a red base: grey-white, half translucent, each with a specular glint."""
    base = L * 0.03
    stamp(hb, p[0], p[1], base, 0.25 + 0.1 * melanin)  # the erythematous base of the group
    for _ in range(int(rng.integers(4, 11))):
        x, y = p[0] + rng.normal(0, base * 0.5), p[1] + rng.normal(0, base * 0.5)
        r = L * rng.uniform(0.003, 0.006)
        disc(overlay, x, y, r, (0.82, 0.80, 0.78), soft=r * 0.3)
        disc(overlay_a, x, y, r, float(rng.uniform(0.55, 0.8)), soft=r * 0.3)
        disc(overlay, x - 0.3 * r, y - 0.3 * r, 0.35 * r, (1.0, 1.0, 1.0), soft=0.5)
