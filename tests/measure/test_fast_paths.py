"""The faster formulations used for speed (issue 7) against the plain computations they replace."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from triage.measure import color, regions
from triage.measure.features import maps, redness


@pytest.mark.parametrize("density", [0.05, 0.45, 0.6])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_components_match_scipy_labelling(density, connectivity):
    rng = np.random.default_rng(int(density * 100) + connectivity)
    mask = rng.random((97, 131)) < density
    n, labels, stats, cents = regions.components(mask, connectivity)
    structure = np.ones((3, 3)) if connectivity == 8 else None
    ref, n_ref = ndimage.label(mask, structure=structure)
    assert n - 1 == n_ref
    assert sorted(stats[1:, 4]) == sorted(np.bincount(ref.ravel())[1:])
    # the same partition: each of our components is exactly one of scipy's
    pairs = {(a, b) for a, b in zip(labels[mask], ref[mask])}
    assert len(pairs) == n_ref
    ys, xs = np.nonzero(labels == 1)
    assert np.allclose(cents[1], (xs.mean(), ys.mean()))


def test_sample_is_even_and_not_column_aligned():
    mask = np.ones((768, 1024), bool)
    rows, cols = np.divmod(regions.sample_index(mask, 65536), 1024)
    assert 0.5 * 65536 < len(rows) <= 65536
    assert len(np.unique(cols % 8)) == 8  # all positions in JPEG's 8x8 blocks, not one column in 8
    assert abs(rows.mean() - 383.5) < 2 and abs(cols.mean() - 511.5) < 2
    few = np.zeros((50, 60), bool)
    few[10:20, 5:9] = True
    r, c = np.divmod(regions.sample_index(few, 1000), 60)  # fewer pixels than asked: all of them
    assert len(r) == 40 and few[r, c].all()


def test_gather_is_indexing_by_rows_and_columns():
    rng = np.random.default_rng(2)
    img = rng.random((40, 50, 3)).astype(np.float32)
    mask = rng.random((40, 50)) < 0.3
    at = regions.sample_index(mask, 200)
    r, c = np.divmod(at, 50)
    assert np.array_equal(regions.gather(img, at), img[r, c])
    assert np.array_equal(regions.gather(img[..., 1], at), img[r, c, 1])


def test_sampled_median_is_close_to_the_full_median():
    rng = np.random.default_rng(3)
    img = rng.normal(10.0, 3.0, (768, 1024)).astype(np.float32)
    mask = rng.random((768, 1024)) < 0.7
    px = regions.gather(img, regions.sample_index(mask, 65536))
    assert abs(np.median(px) - np.median(img[mask])) < 0.05  # 3 x the standard error


def test_max_channel_and_lab_match_the_plain_formulas():
    rng = np.random.default_rng(4)
    lin = rng.random((64, 80, 3)).astype(np.float32)
    assert np.array_equal(color.max_channel(lin), lin.max(axis=-1))
    xyz = lin.astype(np.float64) @ color._RGB_TO_XYZ.T / color._WHITE_D65
    f = np.where(xyz > color._EPS, np.cbrt(xyz), (color._KAPPA * xyz + 16) / 116)
    lab = np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)
    assert np.abs(color.linear_to_lab(lin) - lab).max() < 1e-3


@pytest.mark.parametrize("sigma", [3.0, 5.0])
def test_half_size_smoothing_is_the_full_gaussian_averaged_over_blocks(sigma):
    """regions.halved_gaussian of the photo halved (the redness map, the bruise search) against
    the full-size Gaussian averaged over the same 2x2 blocks."""
    import cv2

    rng = np.random.default_rng(5)
    img = cv2.GaussianBlur(rng.normal(0, 10, (300, 400)).astype(np.float32), (0, 0), 3.0)  # skin-like texture
    img[:, 200:] += 20.0  # and a sharp edge
    full = cv2.GaussianBlur(img, (0, 0), sigma)
    blocks = (full[0::2, 0::2] + full[1::2, 0::2] + full[0::2, 1::2] + full[1::2, 1::2]) / 4
    half = regions.halved_gaussian(regions.halved(img), sigma)
    assert half.shape == blocks.shape
    assert np.abs(half - blocks)[5:-5, 5:-5].mean() < 0.05
    assert np.abs(half - blocks)[5:-5, 5:-5].max() < 0.5


@pytest.mark.parametrize("seed", range(6))
def test_components_labelled_in_the_mask_box_equal_the_whole_frame(seed):
    """regions.components labels only the box around the mask's pixels: the same labels, boxes,
    areas and centroids as OpenCV on the whole frame, at odd and even offsets."""
    import cv2

    rng = np.random.default_rng(seed)
    mask = np.zeros((120, 160), bool)
    y, x = rng.integers(0, 60, 2)
    mask[y: y + 50, x: x + 70] = rng.random((50, 70)) < (0.05, 0.3, 0.6)[seed % 3]
    for connectivity in (4, 8):
        n, labels, stats, cents = regions.components(mask, connectivity)
        algorithm = cv2.CCL_BBDT if connectivity == 8 else cv2.CCL_SAUF
        n_ref, labels_ref, stats_ref, cents_ref = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask.astype(np.uint8), connectivity, cv2.CV_32S, algorithm
        )
        assert n == n_ref and np.array_equal(labels, labels_ref)
        assert np.array_equal(stats[1:], stats_ref[1:]) and stats[0, 4] == stats_ref[0, 4]
        assert np.allclose(cents[1:], cents_ref[1:])
    empty = regions.components(np.zeros((7, 9), bool))
    assert empty[0] == 1 and not empty[1].any()


def test_enclosed_holes_are_the_background_components_off_the_edge():
    mask = np.zeros((40, 50), bool)
    mask[5:20, 5:25] = True
    mask[8:12, 8:12] = False  # a hole
    mask[14, 10] = False  # a one-pixel hole
    mask[5:20, 30:45] = True
    mask[10:15, 30:33] = False  # open to the background on the left: no hole
    mask[30:40, 10:20] = True
    mask[35:38, 12:15] = False  # a hole near the frame's edge, not on it
    mask[39, 16] = False  # a notch on the edge: no hole
    holes = regions.enclosed_holes(mask)
    expected = np.zeros_like(mask)
    expected[8:12, 8:12] = expected[14, 10] = expected[35:38, 12:15] = True
    assert np.array_equal(holes, expected)
    diagonal = np.ones((5, 5), bool)
    diagonal[2, 2] = diagonal[1, 1] = False  # 4-connected: the two pixels touch only at a corner
    assert regions.enclosed_holes(diagonal).sum() == 2


def test_spread_from_moments_matches_pixel_coordinates():
    mask = np.zeros((120, 200), bool)
    mask[10:40, 20:90] = True
    mask[80:110, 150:190] = True
    ys, xs = np.nonzero(mask)
    assert np.isclose(redness._spread2(mask), xs.var() + ys.var())


@pytest.mark.parametrize("sigma", [12.0, 80.0])
def test_local_mean_from_the_photo_halved_is_the_normalised_convolution(sigma):
    """maps.local_mean (from the image times the mask and the mask halved, at a further reduced
    size) against the full-size normalised convolution G*(img m) / G*m, on a frame no multiple
    of the reductions with a bright wall beside the skin: close on average over the mask, within
    0.2 at its 4-px interior (the lesion search area), exact for a constant image;
    maps.masked_half is halving img m."""
    import cv2

    rng = np.random.default_rng(7)
    h, w = 767, 1021  # the working size's scale, no multiple of the reductions (2, then 1 and 10)
    yy, xx = np.mgrid[0:h, 0:w]
    img = (20 + 0.02 * xx - 0.012 * yy + rng.normal(0, 2, (h, w))).astype(np.float32)  # a shaded face
    mask = (xx - 510) ** 2 / 450**2 + (yy - 383) ** 2 / 350**2 < 1
    img[~mask] = 90.0  # a bright wall, which the mean over the skin must not see
    share = regions.halved(mask.astype(np.float32))
    weighted = maps.masked_half(regions.halved(img), share, img, mask)
    assert np.allclose(weighted, regions.halved(img * mask), atol=1e-4)
    out = maps.local_mean(weighted, share, sigma, (w, h))
    assert out.shape == (h, w)
    num = cv2.GaussianBlur(img * mask, (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    den = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    full = num / np.maximum(den, 1e-4)
    assert np.abs(out - full)[mask].mean() < 0.05  # a* / L* units; the signal spans 30 over the frame
    interior = cv2.erode(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.abs(out - full)[interior].max() < 0.2
    const = maps.local_mean(7.0 * share, share, sigma, (w, h))
    assert np.allclose(const[mask], 7.0, atol=1e-3)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 65535, 65536])
def test_median_and_percentile_are_numpys(n):
    """regions.median and regions.percentile (one partition each) give numpy's numbers: the
    same float32 medians bit for bit, per column too, NaN where numpy gives NaN; percentiles
    within rounding."""
    rng = np.random.default_rng(n)
    x = (rng.normal(50, 20, (n, 3)) * (rng.random((n, 3)) < 0.9)).astype(np.float32)  # ties at 0
    assert np.array_equal(regions.median(x, axis=0), np.median(x, axis=0))
    assert regions.median(x[:, 1]) == np.median(x[:, 1])
    assert regions.median(x[:, 1]).dtype == np.float32
    for q in (5, 50, 90, 95, 100):
        assert regions.percentile(x[:, 2], q) == pytest.approx(float(np.percentile(x[:, 2], q)), rel=1e-6, abs=1e-6)
    x[n // 2, 0] = np.nan
    assert np.isnan(regions.median(x, axis=0)[0]) and not np.isnan(regions.median(x, axis=0)[1:]).any()


@pytest.mark.parametrize("seed", range(4))
def test_labels_and_areas_are_the_components(seed):
    """regions.labels_and_areas (no statistics pass) gives the labels of regions.components and
    their areas, on masks from sparse to covering the frame."""
    rng = np.random.default_rng(seed)
    mask = ndimage.gaussian_filter(rng.random((384, 512)), 3) > 0.5 - 0.02 * seed
    n, labels, stats, _c = regions.components(mask)
    n2, labels2, area = regions.labels_and_areas(mask)
    assert n2 == n and np.array_equal(labels2, labels)
    assert np.array_equal(area[1:], stats[1:, 4])


def test_crusts_found_in_windows_are_the_whole_frames():
    """detect.crusts takes the colour test at full size only in windows around the blocks of the
    photo halved that can lie inside a crust: the same mask as the feature's formula over the
    whole frame (honey-coloured patches on skin, one of them outside the skin, one with a 1-px
    tail 44 px long, just crust-coloured, which no block of the halved photo passes for: its
    window must grow along it), and nothing,
    without an error, when there is no skin."""
    import cv2

    from triage.measure import config
    from triage.measure.features import detect

    h, w = 160, 200
    lab = np.zeros((h, w, 3), np.float32)
    lab[...] = (62.0, 14.0, 16.0)  # skin, hue ~49 deg
    for x, y in ((40, 40), (100, 70), (150, 10)):  # honey crusts, hue ~73 deg, chroma ~40
        lab[y - 8: y + 8, x - 8: x + 8] = (58.0, 12.0, 38.0)
    yy, xx = np.mgrid[0:h, 0:w]
    lab[(yy - 120) ** 2 + (xx - 60) ** 2 <= 16**2] = (58.0, 12.0, 38.0)  # a disc with a tail
    lab[120, 76:120] = (58.0, 13.5, 23.4)  # hue 60, chroma 27: half of a block of it and skin fails the test
    skin = np.zeros((h, w), bool)
    skin[10:150, 10:180] = True
    lin = color.lab_to_linear(lab)
    m = maps.Measurements(lin, lab, skin)
    found = detect.crusts(m)
    hue, chroma = color.hue_chroma(lab)
    a_ref, b_ref = m.reference[1], m.reference[2]
    hue_ref = np.degrees(np.arctan2(b_ref, a_ref))
    cand = (hue >= max(config.CRUST_HUE_DEG[0], hue_ref + config.CRUST_MIN_HUE_STEP)) & (hue <= config.CRUST_HUE_DEG[1])
    cand &= chroma >= max(config.CRUST_MIN_CHROMA, np.hypot(a_ref, b_ref) + config.CRUST_DELTA_CHROMA)
    cand &= (lab[..., 0] >= config.CRUST_MIN_L) & m.enclosed_core
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand.astype(np.uint8), connectivity=8)
    plaques = [i for i in range(1, n) if stats[i, 4] >= config.CRUST_MIN_AREA and regions.thickness((labels == i).astype(np.uint8)) >= config.CRUST_MIN_THICKNESS]
    expected = np.isin(labels, plaques)
    assert expected[120, 76:116].all() and np.array_equal(found, expected)
    assert not detect.crusts(maps.Measurements(lin, lab, np.zeros((h, w), bool))).any()
