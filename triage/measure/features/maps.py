"""The maps every feature is measured from, computed once each on first use (`Measurements`).

The reference is the person's untreated-looking skin in the same photo, per pixel:
- with a parsed face (triage.measure.face), what is normal for that region of that face: each
  region's median colour minus its usual offset on healthy faces (FACE_REGION_OFFSETS) is an
  estimate of the face's level; their median over the regions no beard covers (forehead, nose,
  around the eyes; all seven when fewer than two of those are seen) is the level, and a pixel's
  reference is the level plus its region's offset. So a cheek is compared with what a cheek is
  on this face, not with the neck or the forehead;
- without one (a close-up), the median colour of the less-red half of the skin (the skin pixels
  whose a* is at or below the skin's median a*).
A whole face that is red raises its own reference: the hemoglobin index (redness feature
hemoglobin_index) is the measure that does not cancel out.
L_loc = L* minus its local mean over the skin (Gaussian, sigma LOCAL_SIGMA, normalised
convolution, from the photo halved: local_mean), a_loc likewise with sigma DOT_SIGMA; lesions
are looked for in the skin's interior `core` (S eroded by LESION_EDGE_MARGIN px). Redness areas
are taken on the photo halved (da_smooth, skin_half). Medians and percentiles over the skin are
taken on an even sample of at most STATS_MAX_PIXELS skin pixels (regions.sample_index).
"""

from __future__ import annotations

from functools import cached_property

import cv2
import numpy as np

from .. import config
from ..chromophores import decompose
from ..color import luminance
from ..face import REGIONS, FaceMap, HeadBox
from ..regions import disk, enclosed_holes, gather, halved, halved_gaussian, median, percentile, reduced, sample_index
from . import detect

#: (len(REGIONS), 3): each region's usual (L*, a*, b*) offset from the face's level; row 0 none
_REGION_OFFSETS = np.array([(0.0, 0.0, 0.0)] + [config.FACE_REGION_OFFSETS[r] for r in REGIONS[1:]], np.float32)
#: indices of the regions the face's level is taken from (config.FACE_LEVEL_REGIONS)
_LEVEL_REGIONS = {REGIONS.index(r) for r in config.FACE_LEVEL_REGIONS}


def masked_half(half: np.ndarray, share: np.ndarray, img: np.ndarray, mask: np.ndarray, outline: tuple | None = None) -> np.ndarray:
    """The 2x2 block means of I m (an image I times a mask m) at half size (regions.halved), from
    I's block means `half` and m's `share`: half * share wherever a block is all inside the mask
    or all outside it, the block's own mean of I m on the blocks the mask's outline crosses
    (0 < share < 1: a few thousand, gathered from the full-size img and mask). The same numbers
    as halving I m, without a full-size product. outline: those blocks' (rows, columns), when
    the caller has them (outline_blocks)."""
    out = cv2.multiply(half, share)
    ys, xs = outline_blocks(share) if outline is None else outline
    total = np.zeros(len(ys), np.float32)
    for y, x in ((2 * ys, 2 * xs), (2 * ys + 1, 2 * xs), (2 * ys, 2 * xs + 1), (2 * ys + 1, 2 * xs + 1)):
        total += np.where(mask[y, x], img[y, x], 0.0)
    out[ys, xs] = total / 4.0
    return out


def outline_blocks(share: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the half-size blocks a mask's outline crosses: 0 < share < 1."""
    return np.nonzero((share > 0.0) & (share < 1.0))


def local_mean(weighted: np.ndarray, share: np.ndarray, sigma: float, size: tuple[int, int]) -> np.ndarray:
    """The normalised convolution G*(I m) / G*m (G a Gaussian of sigma px): the local mean of an
    image I over a mask m, extrapolating the nearby skin outside it, at the full size `size`
    (w, h), from the photo halved: `weighted` the block means of I m (masked_half), `share` m's.
    Numerator and weight are reduced by f = max(1, sigma // 6) more as the two channels of one
    image (a grid of 2f px, sigma at least 3 of its cells), blurred by sigma / 2f there and
    enlarged bilinearly."""
    f = max(1, int(sigma // 6))
    num, den = cv2.split(cv2.GaussianBlur(reduced(cv2.merge([weighted, share]), f), (0, 0), sigma / (2 * f)))
    return cv2.resize(num / np.maximum(den, 1e-4), size, interpolation=cv2.INTER_LINEAR)


class Measurements:
    """Intermediate maps shared by the features, computed once each on first use."""

    def __init__(
        self,
        linear: np.ndarray,
        lab: np.ndarray,
        skin: np.ndarray,
        face: FaceMap | None = None,
        head: HeadBox | None = None,
        lab_half: np.ndarray | None = None,
        luminance: np.ndarray | None = None,
        sample: np.ndarray | None = None,
    ):
        """lab_half, luminance, sample: lab at half size, the luminance of linear and the skin
        sample's raster indices, when the caller has them (else made on first use)."""
        self.linear, self.lab, self.skin, self.face = linear, lab, skin, face
        self._lab_half, self._luminance, self._given_sample = lab_half, luminance, sample
        #: where lesions may be: a parsed face's outline off its features, or a head box off its
        #: keypoints (face.HeadBox); None: all of the skin
        self.searched = face if face is not None else head
        self.n_skin = int(skin.sum())
        #: the skin's interior: lesions are looked for only here, since colour bleeds across the
        #: skin's outline (JPEG 4:2:0 chroma, lens blur) and makes false spots on it; with a parsed
        #: face, only inside its outline and off its eyes, brows, lips and nostrils (face.unsearched:
        #: ears, hairline and the features' edges are where pinkish bumps, dark strands and
        #: shadows are normal; a head in profile likewise, inside its box off its keypoints)
        self.core = self._search_area(skin)

    def _search_area(self, skin: np.ndarray) -> np.ndarray:
        """Where lesions are looked for in a skin mask: its interior (eroded by
        LESION_EDGE_MARGIN px), inside a face's outline off its features, or a head box off its
        keypoints, when there is one."""
        area = cv2.erode(skin.astype(np.uint8), disk(config.LESION_EDGE_MARGIN)).astype(bool)
        if self.searched is not None:
            area &= self.searched.inside & ~self.searched.unsearched
        return area

    @cached_property
    def lab_half(self) -> np.ndarray:
        """lab at half size (regions.halved): the one given, or made once."""
        return halved(self.lab) if self._lab_half is None else self._lab_half

    @cached_property
    def luminance(self) -> np.ndarray:
        """Relative luminance Y of linear (color.luminance): the one given, or made once."""
        return luminance(self.linear) if self._luminance is None else self._luminance

    @cached_property
    def _sample(self) -> np.ndarray:
        if self._given_sample is not None:
            return self._given_sample
        return sample_index(self.skin, config.STATS_MAX_PIXELS)

    def skin_sample(self, img: np.ndarray) -> np.ndarray:
        """A map (H, W) or (H, W, C) at an even sample of the skin's pixels
        (config.STATS_MAX_PIXELS): (n,) or (n, C). Medians and percentiles over the skin are
        taken on it. One gather of whole pixels, never of a channel's strided view."""
        return gather(img, self._sample)

    @cached_property
    def skin_lab(self) -> np.ndarray:
        """(n, 3) L*a*b* of the skin sample (skin_sample)."""
        return self.skin_sample(self.lab)

    @cached_property
    def skin_linear(self) -> np.ndarray:
        """(n, 3) linear RGB of the skin sample (skin_sample)."""
        return self.skin_sample(self.linear)

    @cached_property
    def skin_chromophores(self) -> tuple[np.ndarray, np.ndarray]:
        """(melanin, hemoglobin) of the skin sample, (n,) each (chromophores.decompose: shading
        and exposure removed)."""
        return decompose(self.skin_linear)

    @cached_property
    def skin_a(self) -> np.ndarray:
        return self.skin_lab[:, 1]

    @cached_property
    def region_levels(self) -> dict[int, np.ndarray]:
        """{region index: its median (L*, a*, b*) minus its usual offset (FACE_REGION_OFFSETS)},
        the estimates of the face's level, for the facial regions with at least
        FACE_REGION_MIN_PIXELS sampled skin pixels inside the face's outline; {} without a face."""
        if self.face is None:
            return {}
        region, inside = self.skin_sample(self.face.regions), self.skin_sample(self.face.inside)
        lab = self.skin_lab
        levels = {}
        for k in range(1, len(REGIONS)):
            px = lab[inside & (region == k)]
            if len(px) >= config.FACE_REGION_MIN_PIXELS:
                levels[k] = median(px, axis=0) - _REGION_OFFSETS[k]
        return levels

    @cached_property
    def regional(self) -> np.ndarray | None:
        """(len(REGIONS), 3) reference (L*, a*, b*) of each facial region, row 0 the face's level
        (the median of region_levels over FACE_LEVEL_REGIONS when two of them are measured, else
        over all; module docstring); None without a parsed face or with fewer than two regions
        measured."""
        levels = self.region_levels
        if len(levels) < 2:
            return None
        bare = [v for k, v in levels.items() if k in _LEVEL_REGIONS]
        level = np.median(np.array(bare if len(bare) >= 2 else list(levels.values())), axis=0)
        return (level + _REGION_OFFSETS).astype(np.float32)

    @cached_property
    def reference_set(self) -> np.ndarray:
        """Which sampled skin pixels (skin_sample) the person's reference statistics are taken
        over: the skin inside a parsed face's outline; without one, the less-red half (a* at or
        below the skin's REFERENCE_QUANTILE)."""
        if self.regional is not None:
            return self.skin_sample(self.face.inside)
        return self.skin_a <= percentile(self.skin_a, 100 * config.REFERENCE_QUANTILE)

    @cached_property
    def reference(self) -> np.ndarray:
        """The person's untreated-looking skin, (L*, a*, b*): the face's level (row 0 of
        `regional`), else the median of the less-red half of the skin."""
        if self.regional is not None:
            return self.regional[0]
        return median(self.skin_lab[self.reference_set], axis=0)

    def reference_plane(self, channel: int, regions: np.ndarray | None = None) -> np.ndarray | float:
        """One channel (0 L*, 1 a*, 2 b*) of the reference of every pixel: with a parsed face, the
        reference of each pixel's facial region (`regional`) looked up in a regions map (the
        face's, or a resized copy), (H, W) float32; else `reference`'s, one number for all. A
        cv2.LUT of the uint8 regions, 7x faster than indexing the (regions, 3) table with them."""
        if self.regional is None:
            return float(self.reference[channel])
        table = np.zeros(256, np.float32)
        table[: len(self.regional)] = self.regional[:, channel]
        return cv2.LUT(self.face.regions if regions is None else regions, table)

    def reference_at(self, xy: np.ndarray) -> np.ndarray:
        """The reference (L*, a*, b*) at integer pixel positions (n, 2) of (x, y): (n, 3)."""
        if self.regional is None:
            return np.broadcast_to(self.reference, (len(xy), 3))
        return self.regional[self.face.regions[xy[:, 1], xy[:, 0]]]

    @cached_property
    def regions_half(self) -> np.ndarray | None:
        """The face's regions map (face.FaceMap.regions) at half size (nearest: every second
        pixel); None without a parsed face."""
        return None if self.face is None else cv2.resize(self.face.regions, self.lab_half.shape[1::-1], interpolation=cv2.INTER_NEAREST)

    @cached_property
    def skin_share_half(self) -> np.ndarray:
        """How much of each 2 x 2 block is skin (0, 1/4, ... 1; regions.halved of the mask), float32."""
        return halved(self.skin.astype(np.float32))

    @cached_property
    def skin_half(self) -> np.ndarray:
        """The skin mask at half size: the 2 x 2 blocks of which at least two pixels are skin.
        Redness areas are shares of it."""
        return self.skin_share_half >= 0.5

    @cached_property
    def _skin_outline_blocks(self) -> tuple[np.ndarray, np.ndarray]:
        return outline_blocks(self.skin_share_half)

    def local_background(self, channel: int, sigma: float, size: tuple[int, int]) -> np.ndarray:
        """The local mean over the skin of one Lab channel (local_mean, Gaussian of sigma px) at
        size (w, h), from the block means of the channel times the skin mask (masked_half)."""
        half = cv2.extractChannel(self.lab_half, channel)
        weighted = masked_half(half, self.skin_share_half, self.lab[..., channel], self.skin, self._skin_outline_blocks)
        return local_mean(weighted, self.skin_share_half, sigma, size)

    @cached_property
    def skin_da(self) -> np.ndarray:
        """(n,) a* - a*_ref of the skin sample (skin_sample), a*_ref each pixel's (reference_plane)."""
        if self.regional is None:
            return self.skin_a - self.reference[1]
        return self.skin_a - self.regional[self.skin_sample(self.face.regions), 1]

    @cached_property
    def da(self) -> np.ndarray:
        """a* - a*_ref at the working size, the reference of each pixel (reference_plane): for the
        stage images (`triage inspect`); the features take it on the skin sample (skin_da) or at
        half size (da_smooth)."""
        return self.lab[..., 1] - self.reference_plane(1)

    @cached_property
    def da_smooth(self) -> np.ndarray:
        """a* - a*_ref smoothed by a Gaussian of REDNESS_SMOOTH_SIGMA px, at half size (a
        redness map is an area): the half-size a* (lab_half, a 2 x 2 area mean) minus the
        reference of the half-size regions map, then the Gaussian of sigma' = sqrt(sigma^2 - 1) / 2
        there (regions.halved_gaussian: the full-size Gaussian averaged over 2 x 2 blocks)."""
        da = self.lab_half[..., 1] - self.reference_plane(1, self.regions_half)
        return halved_gaussian(da, config.REDNESS_SMOOTH_SIGMA)

    @cached_property
    def red(self) -> np.ndarray:
        """Visibly red skin at half size: da_smooth > REDNESS_DELTA_A within skin_half."""
        return (self.da_smooth > config.REDNESS_DELTA_A) & self.skin_half

    @cached_property
    def n_skin_half(self) -> int:
        """|skin_half| (at least 1): what half-size areas are shares of."""
        return max(int(np.count_nonzero(self.skin_half)), 1)

    def share_half(self, mask: np.ndarray) -> float:
        """|mask| / |skin_half|: the share of the skin a half-size mask covers."""
        return float(np.count_nonzero(mask) / self.n_skin_half)

    @cached_property
    def L_loc(self) -> np.ndarray:
        """L* minus its local mean over the skin (local_mean, sigma LOCAL_SIGMA), full size."""
        return self.lab[..., 0] - self.local_background(0, config.LOCAL_SIGMA, self.skin.shape[::-1])

    @cached_property
    def a_loc(self) -> np.ndarray:
        """a* minus its local mean over the skin (local_mean, sigma DOT_SIGMA), full size."""
        return self.lab[..., 1] - self.local_background(1, config.DOT_SIGMA, self.skin.shape[::-1])

    @cached_property
    def enclosed_core(self) -> np.ndarray:
        """The lesion search area (`core`) with the holes the skin mask leaves inside the skin
        (4-connected non-skin not reaching the frame's edge) filled first: a thick crust, a
        blister or a dark scab is not skin-coloured and falls out of the skin mask, but the
        skin all around it says where it is."""
        return self._search_area(self.skin | enclosed_holes(self.skin))

    @cached_property
    def reference_hemoglobin(self) -> float:
        """Median hemoglobin h (chromophores.decompose) of the reference pixels (reference_set)."""
        return float(median(self.skin_chromophores[1][self.reference_set]))

    @cached_property
    def px_per_mm(self) -> float | None:
        """The photo's scale with a parsed face: its inter-ocular distance in three dimensions
        (px, Face.interocular_3d: the eyes of a turned head look closer together, the cheek
        turned to the camera does not shrink) over FACE_INTEROCULAR_MM; None without one."""
        return None if self.face is None else self.face.face.interocular_3d / config.FACE_INTEROCULAR_MM

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
    def bright_spots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bright domes on a red base, which are yellow and which clear (detect.bright_spots)."""
        return detect.bright_spots(self)

    @cached_property
    def pustules(self) -> np.ndarray:
        """Centroids (x, y) of pustule-like spots (detect.pustules)."""
        return detect.pustules(self)

    @cached_property
    def vesicles(self) -> np.ndarray:
        """Centroids (x, y) of grouped vesicle-like spots (detect.vesicles)."""
        return detect.vesicles(self)

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
