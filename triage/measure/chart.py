"""A ColorChecker Classic chart in the photo: find it, fit a colour correction to it.

Finding (deterministic, by geometry then colour):
1. Candidate patches: regions between Canny edges of the grey image whose minimum-area rectangle
   is nearly square (sides within CHART_MAX_ASPECT) and filled (region / rectangle area >=
   CHART_MIN_FILL), of a plausible size.
2. The lattice: the candidate with the most neighbours of its size seeds a group; centres rotated
   by the lattice's direction and divided by its pitch (both from nearest-neighbour steps) round
   to integer cells within CHART_LATTICE_TOLERANCE. A homography from cells to centres
   (cv2.findHomography, least squares) absorbs mild perspective.
3. Which cell holds which patch: every placement of the 4 x 6 layout over the found cells (4
   rotations, offsets where edge patches were missed) samples the 24 patch medians and fits a
   3 x 3 matrix to the published sRGB values (least squares in linear RGB); the placement with
   the smallest residual wins.

cv2.mcc is not used to find the chart: in opencv-python-headless 5.0 its detector answers
differently on identical input (on an ideal generated chart: never found with one thread, found
on 1 to 7 of 8 calls with two), and a triage must give the same answer twice.

Correction: cv2.ccm.ColorCorrectionModel fits a linear 3 x 3 matrix from the sampled linear RGB to
its own ColorChecker reference (COLORCHECKER_MACBETH, CIEDE2000 loss); it is applied to the linear
image as lin @ M. The chart is accepted when the fit's mean CIEDE2000 is at most CHART_MAX_LOSS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import config
from .color import srgb_to_linear
from .regions import components, reduced

#: Published sRGB (8-bit, D65) values of the 24 patches of the ColorChecker Classic, row by row
#: from dark skin to black (X-Rite / BabelColor values as tabulated for the chart since 2014).
MACBETH_SRGB8 = np.array(
    [
        (115, 82, 68), (194, 150, 130), (98, 122, 157), (87, 108, 67), (133, 128, 177), (103, 189, 170),
        (214, 126, 44), (80, 91, 166), (193, 90, 99), (94, 60, 108), (157, 188, 64), (224, 163, 46),
        (56, 61, 150), (70, 148, 73), (175, 54, 60), (231, 199, 31), (187, 86, 149), (8, 133, 161),
        (243, 243, 242), (200, 200, 200), (160, 160, 160), (122, 122, 121), (85, 85, 85), (52, 52, 52),
    ],
    np.float32,
)  # fmt: skip
ROWS, COLS = 4, 6


@dataclass(frozen=True)
class Chart:
    matrix: np.ndarray  #: float32 (3, 3): corrected linear RGB = lin @ matrix
    loss: float  #: mean CIEDE2000 of the fitted patches against the reference
    centres: np.ndarray  #: float32 (24, 2): (x, y) of each patch, in the layout's order
    mask: np.ndarray  #: bool (H, W): the chart, frame included

    def apply(self, lin: np.ndarray) -> np.ndarray:
        """The corrected linear image, clipped to [0, 1]."""
        out = cv2.transform(np.ascontiguousarray(lin, np.float32), np.ascontiguousarray(self.matrix.T, np.float32))
        return np.clip(out, 0.0, 1.0)


def reference_linear() -> np.ndarray:
    """The published patch values in linear RGB (read at call time: tests repaint the chart)."""
    return srgb_to_linear(MACBETH_SRGB8 / 255.0)


def _candidates(gray: np.ndarray) -> np.ndarray:
    """(n, 3) rows of (cx, cy, side) of square, filled regions between edges,
    found at 1/CHART_SCALE of the working size (a quarter of the pixels to label)."""
    k = config.CHART_SCALE
    gray = reduced(gray, k)
    h, w = gray.shape
    min_side = config.CHART_MIN_PATCH_SIDE / k
    edges = cv2.Canny(gray, *config.CHART_CANNY)
    regions = cv2.dilate(edges, np.ones((3, 3), np.uint8)) == 0
    _, labels, stats, _ = components(regions, connectivity=4)
    area = stats[:, cv2.CC_STAT_AREA]
    bw, bh = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    ok = (area >= min_side**2) & (area <= config.CHART_MAX_PATCH_SHARE * h * w)
    # a square's bounding box, at any angle, is as wide as high within the aspect and at most
    # twice its area (45 deg): the cheap test before the rectangle fit
    ok &= (np.maximum(bw, bh) <= config.CHART_MAX_ASPECT * np.minimum(bw, bh)) & (area >= 0.5 * config.CHART_MIN_FILL * bw * bh)
    ok[0] = False
    out = []
    for i in np.flatnonzero(ok):
        x, y, bw, bh = stats[i, :4]
        sub = (labels[y : y + bh, x : x + bw] == i).astype(np.uint8)
        contours, _ = cv2.findContours(sub, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        (cx, cy), (rw, rh), _ = cv2.minAreaRect(max(contours, key=len))
        if min(rw, rh) < min_side or max(rw, rh) > config.CHART_MAX_ASPECT * min(rw, rh):
            continue
        if area[i] < config.CHART_MIN_FILL * rw * rh:
            continue
        out.append(((cx + x + 0.5) * k - 0.5, (cy + y + 0.5) * k - 0.5, k * math.sqrt(rw * rh)))
    return np.array(out, np.float64).reshape(-1, 3)


def _lattice(cand: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(cells int (k, 2), centres (k, 2)) of the largest group of like candidates on one lattice."""
    if len(cand) < config.CHART_MIN_PATCHES:
        return None
    xy, side = cand[:, :2], cand[:, 2]
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    like = (np.abs(np.log(side[:, None] / side[None])) < math.log(1.3)) & (dist < 9.0 * side[:, None])
    seed = int(np.argmax(like.sum(axis=1)))  # ties: the first, so the answer does not depend on chance
    group = np.flatnonzero(like[seed])
    if len(group) < config.CHART_MIN_PATCHES:
        return None
    # the lattice's direction and pitch from each patch's nearest neighbour (a small patch's own
    # rectangle is too pixelated to give its angle): directions modulo 90 deg averaged as
    # exp(4i theta) over the steps near the pitch, the median distance
    d = dist[np.ix_(group, group)] + np.eye(len(group)) * 1e9
    step = xy[group][np.argmin(d, axis=1)] - xy[group]
    pitch = float(np.median(d.min(axis=1)))
    step = step[np.abs(d.min(axis=1) / pitch - 1) < config.CHART_LATTICE_TOLERANCE]  # strays' steps out
    t = np.angle(np.exp(4j * np.arctan2(step[:, 1], step[:, 0])).mean()) / 4
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    uv = (xy[group] - xy[seed]) @ rot.T
    g = uv / pitch
    cells = np.rint(g).astype(int)
    on = np.all(np.abs(g - cells) < config.CHART_LATTICE_TOLERANCE, axis=1)
    cells, centres = cells[on], xy[group][on]
    _, first = np.unique(cells, axis=0, return_index=True)
    cells, centres = cells[np.sort(first)], centres[np.sort(first)]
    # the chart's window (6 x 4 either way) holding the most cells: a stray square that fell
    # on the lattice outside it is dropped
    best = np.zeros(len(cells), bool)
    for size in (np.array([COLS, ROWS]), np.array([ROWS, COLS])):
        shifts = np.stack(np.meshgrid(np.arange(size[0]), np.arange(size[1]), indexing="ij"), -1).reshape(-1, 2)
        origins = np.unique((cells[:, None] - shifts[None]).reshape(-1, 2), axis=0)  # (k, 2)
        inside = np.all((cells[None] >= origins[:, None]) & (cells[None] < origins[:, None] + size), axis=2)
        counts = inside.sum(axis=1)
        if counts.max() > best.sum():
            best = inside[int(np.argmax(counts))]
    inside = best
    if inside.sum() < config.CHART_MIN_PATCHES:
        return None
    return cells[inside] - cells[inside].min(axis=0), centres[inside]


def _layouts() -> list[np.ndarray]:
    """The (24, 2) lattice cells (u, v) of the patches for each of the chart's 4 rotations."""
    r, c = np.divmod(np.arange(ROWS * COLS), COLS)
    return [
        np.stack([c, r], 1),
        np.stack([ROWS - 1 - r, c], 1),
        np.stack([COLS - 1 - c, ROWS - 1 - r], 1),
        np.stack([r, COLS - 1 - c], 1),
    ]


def _sample(lin: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray | None:
    h, w = lin.shape[:2]
    out = np.empty((len(centres), 3), np.float64)
    for k, (x, y) in enumerate(np.rint(centres).astype(int)):
        if x - half < 0 or y - half < 0 or x + half >= w or y + half >= h:
            return None
        out[k] = np.median(lin[y - half : y + half + 1, x - half : x + half + 1].reshape(-1, 3), axis=0)
    return out


def _fit_residual(src: np.ndarray, ref: np.ndarray) -> float:
    """Relative RMS residual of the least-squares 3 x 3 map src -> ref (linear RGB)."""
    m, *_ = np.linalg.lstsq(src, ref, rcond=None)
    return float(np.sqrt(np.mean((src @ m - ref) ** 2)) / np.sqrt(np.mean(ref**2)))


def find(rgb: np.ndarray, lin: np.ndarray) -> Chart | None:
    """The ColorChecker in an upright uint8 RGB photo (lin: its linear RGB) with its fitted
    correction, or None when there is none (or its fit is too poor to trust)."""
    found = _lattice(_candidates(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)))
    if found is None:
        return None
    cells, centres = found
    H, _ = cv2.findHomography(cells.astype(np.float32), centres.astype(np.float32), 0)
    if H is None:
        return None
    span = cells.max(axis=0) + 1
    o, u, v = cv2.perspectiveTransform(np.float32([[[0, 0], [1, 0], [0, 1]]]), H)[0]
    pitch = float(min(np.linalg.norm(u - o), np.linalg.norm(v - o)))
    half = max(1, int(pitch * config.CHART_SAMPLE_SHARE / 2))
    ref = reference_linear()
    best = None
    for layout in _layouts():
        size = layout.max(axis=0) + 1
        for du in range(int(span[0] - size[0]), 1):
            for dv in range(int(span[1] - size[1]), 1):
                pts = cv2.perspectiveTransform((layout + (du, dv)).astype(np.float32)[None], H)[0]
                src = _sample(lin, pts, half)
                if src is None:
                    continue
                res = _fit_residual(src, ref)
                if best is None or res < best[0]:
                    best = (res, src, pts, layout + (du, dv))
    if best is None or best[0] > config.CHART_MAX_RESIDUAL:
        return None
    _, src, pts, cells24 = best
    model = cv2.ccm.ColorCorrectionModel(src.reshape(24, 1, 3), cv2.ccm.COLORCHECKER_MACBETH)
    model.setColorSpace(cv2.ccm.COLOR_SPACE_SRGB)
    model.setCcmType(cv2.ccm.CCM_LINEAR)
    model.setLinearization(cv2.ccm.LINEARIZATION_IDENTITY)
    model.compute()
    loss = float(model.getLoss())
    if not math.isfinite(loss) or loss > config.CHART_MAX_LOSS:
        return None
    lo, hi = cells24.min(axis=0) - 0.5 - config.CHART_FRAME_CELLS, cells24.max(axis=0) + 0.5 + config.CHART_FRAME_CELLS
    corners = cv2.perspectiveTransform(np.float32([[lo, (hi[0], lo[1]), hi, (lo[0], hi[1])]]), H)[0]
    mask = np.zeros(lin.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.rint(corners).astype(np.int32)], 1)
    return Chart(model.getColorCorrectionMatrix().astype(np.float32), loss, pts.astype(np.float32), mask.astype(bool))
