"""The maps every feature is measured from, computed once each on first use (`Measurements`).

The reference is the person's untreated-looking skin in the same photo: the median colour of the
less-red half of the skin (the skin pixels whose a* is at or below the skin's median a*).
L_loc = L* minus its local mean over the skin (Gaussian, sigma LOCAL_SIGMA, normalised
convolution), a_loc likewise with sigma DOT_SIGMA; lesions are looked for in the skin's interior
`core` (S eroded by LESION_EDGE_MARGIN px). Medians and percentiles over the skin are taken on
an even sample of at most STATS_MAX_PIXELS skin pixels (regions.sample).
"""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from .. import config
from ..color import hue_chroma
from ..regions import disk, sample
from . import detect


def blur_masked(img: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Normalised convolution: Gaussian mean of img over mask, computed at reduced size
    (sigma/4 px) and brought back; outside the mask it extrapolates the nearby skin."""
    h, w = img.shape
    f = max(1, int(sigma // 4))
    size = (max(1, w // f), max(1, h // f))
    m = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    v = cv2.resize(img * mask, size, interpolation=cv2.INTER_AREA)
    s = sigma / f
    num = cv2.GaussianBlur(v, (0, 0), s)
    den = cv2.GaussianBlur(m, (0, 0), s)
    out = num / np.maximum(den, 1e-4)
    return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)


class Measurements:
    """Intermediate maps shared by the features, computed once each on first use."""

    def __init__(self, linear: np.ndarray, lab: np.ndarray, skin: np.ndarray, hue: np.ndarray | None = None, chroma: np.ndarray | None = None):
        self.linear, self.lab, self.skin = linear, lab, skin
        self._hue_chroma = (hue, chroma) if hue is not None and chroma is not None else None
        self.n_skin = int(skin.sum())
        #: the skin's interior: lesions are looked for only here, since colour bleeds across the
        #: skin's outline (JPEG 4:2:0 chroma, lens blur) and makes false spots on it
        self.core = cv2.erode(skin.astype(np.uint8), disk(config.LESION_EDGE_MARGIN)).astype(bool)

    @cached_property
    def hue_chroma(self) -> tuple[np.ndarray, np.ndarray]:
        return self._hue_chroma or hue_chroma(self.lab)

    @cached_property
    def _sample(self) -> tuple[np.ndarray, np.ndarray]:
        return sample(self.skin, config.STATS_MAX_PIXELS)

    def skin_sample(self, img: np.ndarray) -> np.ndarray:
        """A one-channel map at an even sample of the skin's pixels (config.STATS_MAX_PIXELS):
        medians and percentiles over the skin are taken on it."""
        return img[self._sample]

    @cached_property
    def skin_a(self) -> np.ndarray:
        return self.skin_sample(self.lab[..., 1])

    @cached_property
    def less_red(self) -> np.ndarray:
        """Which sampled skin pixels (skin_sample) form the less-red half: a* at or below the skin's
        REFERENCE_QUANTILE."""
        return self.skin_a <= np.quantile(self.skin_a, config.REFERENCE_QUANTILE)

    @cached_property
    def reference(self) -> np.ndarray:
        """Median (L*, a*, b*) of the less-red half of the skin."""
        return np.array([np.median(self.skin_sample(self.lab[..., c])[self.less_red]) for c in range(3)], np.float32)

    @cached_property
    def da(self) -> np.ndarray:
        """a* - a*_ref."""
        return self.lab[..., 1] - self.reference[1]

    @cached_property
    def da_smooth(self) -> np.ndarray:
        return cv2.GaussianBlur(self.da, (0, 0), config.REDNESS_SMOOTH_SIGMA)

    @cached_property
    def red(self) -> np.ndarray:
        return (self.da_smooth > config.REDNESS_DELTA_A) & self.skin

    @cached_property
    def L_loc(self) -> np.ndarray:
        L = self.lab[..., 0]
        return L - blur_masked(L, self.skin, config.LOCAL_SIGMA)

    @cached_property
    def a_loc(self) -> np.ndarray:
        a = self.lab[..., 1]
        return a - blur_masked(a, self.skin, config.DOT_SIGMA)

    def share(self, mask: np.ndarray) -> float:
        """|mask| / |S|: the share of the skin a mask covers."""
        return float(mask.sum() / self.n_skin)

    # --- lesion detections (triage.measure.features.detect), cached: the features count them
    # and the report's overlay draws the same ones
    @cached_property
    def _macule_regions(self) -> tuple[np.ndarray, int]:
        return detect.macule_regions(self)

    @property
    def macules(self) -> np.ndarray:
        """Mask of dark macules (detect.macule_regions)."""
        return self._macule_regions[0]

    @property
    def macule_count(self) -> int:
        return self._macule_regions[1]

    @cached_property
    def small_red_dots(self) -> np.ndarray:
        """Centroids (x, y) of small red dots (detect.small_red_dots)."""
        return detect.small_red_dots(self)

    @cached_property
    def pustules(self) -> np.ndarray:
        """Centroids (x, y) of pustule-like spots (detect.pustules)."""
        return detect.pustules(self)

    @cached_property
    def crusts(self) -> np.ndarray:
        """Mask of yellow crust-like regions (detect.crusts)."""
        return detect.crusts(self)

    @cached_property
    def bleeding_spots(self) -> np.ndarray:
        """Centroids (x, y) of pinpoint bleeding spots (detect.bleeding_spots)."""
        return detect.bleeding_spots(self)

    @cached_property
    def papules(self) -> np.ndarray:
        """Centroids (x, y) of papule-like red bumps (detect.papules)."""
        return detect.papules(self)

    @cached_property
    def bruises(self) -> np.ndarray:
        """Mask of bruise-like regions (detect.bruises)."""
        return detect.bruises(self)
