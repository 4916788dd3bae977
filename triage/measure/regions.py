"""Helpers over masks and pixel sets shared by segmentation, the quality gate and the features:
structuring elements, connected components (filtered by size and shape), holes, even samples,
medians and percentiles by one partition, robust spread, shape descriptors, and the half-size
resampling the area statistics use."""

from __future__ import annotations

import math
from typing import Callable

import cv2
import numpy as np


def disk(radius: int) -> np.ndarray:
    """Elliptic structuring element of diameter 2 radius + 1 px."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def components(mask: np.ndarray, connectivity: int = 8) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Connected components of a mask: (n, labels int32, stats, centroids) as
    cv2.connectedComponentsWithStats, label 0 the background (whose stats row and centroid are
    not used: here its box is the frame and its area exact, its centroid NaN).

    Labelled inside the bounding box of the mask's pixels only (lesion masks are sparse: the
    statistics pass costs ~3-7 ms a call at the working size whatever the mask holds), with
    Grana's block-based decision tree (BBDT; Grana C et al. IEEE Trans Image Process
    2010;19:1596-1609), SAUF for 4-connectivity: the same components as OpenCV's default
    (Spaghetti), whose statistics pass costs 3x more on our sparse lesion masks."""
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0:  # an empty mask: the background alone
        x, y, w, h = 0, 0, 1, 1
    w, h, x, y = w + x % 2, h + y % 2, x - x % 2, y - y % 2  # on BBDT's 2x2 block grid: the same label numbers
    n, crop_labels, stats, cents = cv2.connectedComponentsWithStatsWithAlgorithm(
        np.ascontiguousarray(mask[y: y + h, x: x + w]), connectivity, cv2.CV_32S, cv2.CCL_BBDT
    )
    labels = np.zeros(mask.shape, np.int32)
    labels[y: y + h, x: x + w] = crop_labels
    stats[:, 0] += x
    stats[:, 1] += y
    stats[0] = (0, 0, mask.shape[1], mask.shape[0], mask.size - int(stats[1:, 4].sum()))
    cents += (x, y)
    cents[0] = np.nan
    return n, labels, stats, cents


def labels_and_areas(mask: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """8-connected components of a mask without OpenCV's statistics pass: (n, labels int32,
    area of each label), the same labels as `components`. For a mask that covers much of the
    frame (the skin at half size), the statistics cost 10x the labelling (1.2 against 0.1 ms at
    512 x 384); the areas alone are one bincount."""
    n, labels = cv2.connectedComponentsWithAlgorithm(np.ascontiguousarray(mask, dtype=np.uint8), 8, cv2.CV_32S, cv2.CCL_BBDT)
    return n, labels, np.bincount(labels.ravel(), minlength=n)


def lookup(keep: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """bool mask of the labels whose entry in `keep` (bool per label) is True: keep[labels] as a
    np.take of keep's bytes (2x faster than numpy's boolean fancy indexing of a frame)."""
    return np.take(np.ascontiguousarray(keep, bool).view(np.uint8), labels).view(bool)


def enclosed_holes(mask: np.ndarray) -> np.ndarray:
    """The holes of a mask: its 4-connected background components that do not reach the
    frame's edge (bool, same shape): everything outside the mask minus what a 4-connected flood
    from a ring around the frame reaches."""
    outside = cv2.copyMakeBorder((~mask.astype(bool)).astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=1)
    cv2.floodFill(outside, None, (0, 0), 2, flags=4)
    return outside[1:-1, 1:-1] == 1


def resized_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask brought to size (w, h) by nearest neighbour."""
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)


def reduced(img: np.ndarray, k: int) -> np.ndarray:
    """img reduced by the integer factor k, (w // k, h // k) and at least 1 px, each pixel the
    area mean of the pixels under it (INTER_AREA: the k x k block when k divides the size, a
    little more than it, fractions of its neighbours, when not): where area statistics are
    taken. A view (a crop, a channel) is read in place: OpenCV takes a row stride, and copies
    itself only what it cannot."""
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)


def halved(img: np.ndarray) -> np.ndarray:
    """img at half its size, (w // 2, h // 2), each pixel the mean of its own 2 x 2 block (an odd
    last row or column is left out: at most 1 px of the frame's edge, where no block is whole):
    the skin's body, the redness map, the local backgrounds, the bruise search and the collage
    seams are taken on it."""
    h, w = img.shape[:2]
    if h >= 2 and w >= 2:
        img = img[: h - h % 2, : w - w % 2]
    return reduced(img, 2)


def halved_gaussian(half: np.ndarray, sigma: float) -> np.ndarray:
    """The Gaussian of sigma full-size px of an image, at half its size, from the image already
    halved (2x2 area means: itself a blur of variance 1/4 px^2 there): the rest of the Gaussian,
    sigma' = sqrt(sigma^2 - 1) / 2 half-size px. Equal to the full-size Gaussian averaged over
    the same 2x2 blocks, at a quarter of the pixels (tests/measure/test_fast_paths.py)."""
    return cv2.GaussianBlur(half, (0, 0), math.sqrt(sigma**2 - 1.0) / 2)


def sized_components(mask: np.ndarray, min_area: int = 1, max_area: int | None = None):
    """8-connected components: (labels, stats rows kept, centroids kept, kept label ids)."""
    n, labels, stats, cents = components(mask)
    area = stats[:, cv2.CC_STAT_AREA]
    keep = np.arange(n) > 0
    keep &= area >= min_area
    if max_area is not None:
        keep &= area <= max_area
    ids = np.nonzero(keep)[0]
    return labels, stats[ids], cents[ids], ids


def component_crop(labels: np.ndarray, row: np.ndarray, i: int, margin: int = 0) -> tuple[tuple[slice, slice], np.ndarray]:
    """(box, blob) of one component (its label id i and stats row): the box around it grown by
    `margin` px (cut at the frame) and the component in it as a 0/1 uint8 mask."""
    x, y, w, h = row[:4]
    box = np.s_[max(0, y - margin): y + h + margin, max(0, x - margin): x + w + margin]
    return box, (labels[box] == i).view(np.uint8)


def components_shaped(labels: np.ndarray, stats: np.ndarray, ids: np.ndarray, shape_ok: Callable[[np.ndarray], bool]) -> np.ndarray:
    """bool per listed component: shape_ok of its 0/1 uint8 crop (component_crop)."""
    return np.array([shape_ok(component_crop(labels, row, i)[1]) for row, i in zip(stats, ids)], bool)


def kept_components(mask: np.ndarray, min_area: int, shape_ok: Callable[[np.ndarray], bool] | None = None) -> tuple[np.ndarray, int]:
    """The mask's 8-connected components of at least min_area px (and, when given, for which
    shape_ok of the component, a 0/1 uint8 crop around it, is true), and how many there are."""
    labels, stats, _c, ids = sized_components(mask, min_area)
    if shape_ok is not None:
        ok = components_shaped(labels, stats, ids, shape_ok)
        stats, ids = stats[ok], ids[ok]
    return components_mask(labels, stats, ids), len(ids)


def components_mask(labels: np.ndarray, stats: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """bool mask of the listed components (their label ids and stats rows, as sized_components
    gives them), looked up in the labels only inside the box that holds them all: a lesion mask
    keeps a few small components, and a look-up over the whole frame costs ~1 ms a time."""
    out = np.zeros(labels.shape, bool)
    if len(ids):
        box = components_box(stats)
        keep = np.zeros(int(labels[box].max()) + 1, bool)
        keep[ids] = True
        out[box] = lookup(keep, labels[box])
    return out


def components_box(stats: np.ndarray, margin: int = 0) -> tuple[slice, slice]:
    """(rows, columns) slices of the box holding every listed component (stats rows, at least
    one), grown by `margin` px and cut at the frame's top and left (slicing cuts the rest)."""
    x0, y0 = (stats[:, :2].min(axis=0) - margin).clip(0)
    x1, y1 = (stats[:, :2] + stats[:, 2:4]).max(axis=0) + margin
    return np.s_[int(y0): int(y1), int(x0): int(x1)]


def sample_index(mask: np.ndarray, at_most: int) -> np.ndarray:
    """Raster (flat) indices of at most `at_most` of the mask's pixels, evenly strided in raster
    order: gather(img, index) is a sample of img over the mask for medians and percentiles."""
    idx = np.flatnonzero(mask)
    step = max(1, -(-len(idx) // at_most))
    while math.gcd(step, mask.shape[1]) != 1:  # a step sharing a factor with the width would sample
        step += 1  # the same columns in every row (JPEG's 8x8 blocks, 2x enlargements)
    return idx[::step]


def gather(img: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The pixels of a map (H, W) or (H, W, C) at raster indices (sample_index): (n,) or (n, C).
    One np.take of whole pixels, 10x faster than img[rows, cols] on (H, W, 3)."""
    img = np.asarray(img)
    return np.take(img.reshape(-1, *img.shape[2:]), index, axis=0)


def median(x: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """np.median of float data, the same numbers at a tenth of the cost: one partition at the
    middle and, for an even count, the largest value below it (np.median partitions at two
    places and at the end to find NaNs, numpy's slow path: 0.7 ms for 65,536 values, against
    0.06 ms). NaN where a column holds a NaN, as np.median."""
    x = np.asarray(x)
    if x.dtype.kind != "f" or x.size == 0:
        return np.median(x, axis=axis)
    if axis is None:
        cols = x.ravel().copy()  # partitioned in place
    elif x.ndim == 2 and axis in (0, -2):  # the common case, (pixels, channels): no moveaxis
        cols = x.T.copy()
    else:
        cols = np.moveaxis(x, axis, -1).copy(order="C")
    n, k = cols.shape[-1], cols.shape[-1] // 2
    cols.partition(k, axis=-1)
    out = cols[..., k] if n % 2 else (cols[..., :k].max(axis=-1) + cols[..., k]) / 2
    upper = np.isnan(cols[..., k:])  # NaN sorts last: above the middle
    if upper.any():
        out = np.where(upper.any(axis=-1), np.nan, out).astype(x.dtype)[()]
    return out


def percentile(v: np.ndarray, q: float) -> float:
    """np.percentile(v, q) of a 1-D float array (its default 'linear' method): the values at
    ranks floor(r) and floor(r) + 1, r = (n - 1) q / 100, interpolated, by one partition and a
    minimum (np.percentile partitions at two places, numpy's slow path)."""
    v = np.asarray(v)
    r = (len(v) - 1) * q / 100.0
    k = int(math.floor(r))
    part = np.partition(v, k)
    lo = float(part[k])
    if k + 1 >= len(v):
        return lo
    hi, t = float(part[k + 1:].min()), r - k
    return lo + (hi - lo) * t if t < 0.5 else hi - (hi - lo) * (1 - t)


def median_and_sd(px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust location and spread of the rows of px ((n,) or (n, channels)), per column: the
    median and 1.4826 * median(|x - median|), the MAD scaled to equal the standard deviation of a
    normal distribution (Rousseeuw PJ, Croux C. J Am Stat Assoc 1993;88:1273-1283)."""
    med = median(px, axis=0)
    return med, 1.4826 * median(np.abs(px - med), axis=0)


def robust_sd(v: np.ndarray) -> float:
    """The robust standard deviation of a set of values (median_and_sd)."""
    return float(median_and_sd(v)[1])


def thickness(blob: np.ndarray) -> float:
    """2 A / P of one component (a 0/1 uint8 mask, cropped around it): its area in px over half
    the length of its outer outline (through the boundary pixels' centres). A band's width (2 w L
    / (2 L + 2 w) -> w), a disc's radius (2 pi r^2 / 2 pi r = r): how thick a region is
    whatever its length."""
    return 2.0 * float(np.count_nonzero(blob)) / max(cv2.arcLength(_outer_outline(blob), True), 1.0)


def _outer_outline(blob: np.ndarray) -> np.ndarray:
    """The largest outer contour of a 0/1 uint8 mask, every boundary pixel (CHAIN_APPROX_NONE)."""
    contours, _ = cv2.findContours(blob, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return max(contours, key=cv2.contourArea)


def elongation_solidity(blob: np.ndarray) -> tuple[float, float]:
    """Shape of one component (a 0/1 uint8 mask, cropped around it) from its outer outline:

    elongation = sqrt(l1 / l2), l1 >= l2 the eigenvalues of the outline's second central
    moments (mu20, mu02, mu11): 1 for a disc, the length-to-width ratio of a bar;
    solidity = area / convex hull area, both of the outline polygon: 1 for a convex blob, low
    for a crescent or a curved band (Gonzalez RC, Woods RE. Digital Image Processing, 4th ed.,
    ch. 11, region descriptors). Pixel areas of the outline polygon, so a blob of a few pixels
    reads as a disc (1, 1)."""
    outline = _outer_outline(blob)
    mo = cv2.moments(outline)
    if mo["m00"] < 1.0:
        return 1.0, 1.0
    mu20, mu02, mu11 = mo["mu20"], mo["mu02"], mo["mu11"]
    half_gap = math.sqrt(((mu20 - mu02) / 2) ** 2 + mu11**2)
    l1, l2 = (mu20 + mu02) / 2 + half_gap, (mu20 + mu02) / 2 - half_gap
    hull = cv2.contourArea(cv2.convexHull(outline))
    return math.sqrt(l1 / max(l2, 1e-9)), min(1.0, mo["m00"] / max(hull, 1e-9))
