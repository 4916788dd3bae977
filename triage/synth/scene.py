"""The scene of a generated photo: where the skin is (a close-up of a cheek or forehead, with
clothing and hair where drawn), the skin's surface (pores, fine lines, relief, flaking, shading,
specular sheen), the background, and a ColorChecker chart when the spec asks for one."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..measure import color
from ..measure.chart import reference_linear
from .draw import smooth_noise
from .spec import PhotoSpec


@dataclass
class Layout:
    skin: np.ndarray  #: bool (H, W): the body of skin in the frame
    clothing: np.ndarray  #: bool (H, W)
    hair: np.ndarray  #: bool (H, W): strands over the skin
    skin_mask: np.ndarray  #: bool (H, W): the skin that is seen, the ground-truth mask


def _grid(size: tuple[int, int]) -> tuple[float, np.ndarray, np.ndarray]:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return float(max(w, h)), yy, xx


def layout(spec: PhotoSpec, size: tuple[int, int], rng: np.random.Generator) -> Layout:
    """The skin region, clothing across the bottom and hair strands from the top, as drawn."""
    w, h = size
    L, yy, xx = _grid(size)
    if spec.skin_extent >= 0.98:
        skin = np.ones((h, w), bool)
    else:
        cx, cy = w * rng.uniform(0.35, 0.65), h * rng.uniform(0.35, 0.65)
        rx, ry = w * spec.skin_extent * rng.uniform(0.55, 0.8), h * spec.skin_extent * rng.uniform(0.6, 0.85)
        skin = (((xx - cx) / max(rx, 1)) ** 2 + ((yy - cy) / max(ry, 1)) ** 2) ** 0.5 + 0.08 * smooth_noise(
            rng, h, w, 3, 2
        ) < 1.0
    clothing = np.zeros((h, w), bool)
    if spec.clothing:
        edge = h * rng.uniform(0.8, 0.93) + 0.03 * h * smooth_noise(rng, h, w, 2, 1)
        clothing = yy > edge
    hair = np.zeros((h, w), bool)
    if spec.hair:
        hair_img = np.zeros((h, w), np.uint8)
        n = int(rng.integers(15, 70))
        for _ in range(n):
            x = rng.uniform(0, w)
            y = rng.uniform(-0.05 * h, 0.25 * h)
            ang = rng.uniform(0.3, 2.8)
            pts = []
            for t in range(12):
                ang += rng.normal(0, 0.15)
                x += np.cos(ang) * L * 0.02
                y += np.sin(ang) * L * 0.02
                pts.append((x, y))
            thick = max(1, int(round(L * rng.uniform(0.0015, 0.0035))))
            cv2.polylines(hair_img, [np.array(pts, np.int32)], False, 255, thick, cv2.LINE_AA)
        hair = hair_img > 96
    skin_mask = skin & ~clothing & ~hair
    return Layout(skin, clothing, hair, skin_mask)


def surface(spec: PhotoSpec, rho: np.ndarray, treated: np.ndarray, overlay: np.ndarray, overlay_a: np.ndarray,
            size: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The skin as lit: reflectance rho with texture (pores, lines, relief, flaking on the treated
    region), the lesions' own colours (overlay, where overlay_a) replacing the skin's, shading of
    the skin's relief and specular sheen. Returns (linear RGB (H, W, 3), shading (H, W))."""
    w, h = size
    L = float(max(w, h))
    pores = np.zeros((h, w), np.float32)
    n_pores = int(w * h / (L * 0.009) ** 2)
    px, py = rng.uniform(0, w, n_pores).astype(int), rng.uniform(0, h, n_pores).astype(int)
    pores[py, px] = 1.0
    pores = cv2.GaussianBlur(pores, (0, 0), max(0.6, L * 0.0012))
    pores = pores / max(pores.max(), 1e-6)
    lines = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(2, 10))):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        ang = rng.uniform(0, np.pi)
        ln = L * rng.uniform(0.05, 0.2)
        cv2.line(lines, (int(x0), int(y0)), (int(x0 + ln * np.cos(ang)), int(y0 + ln * np.sin(ang))), 255, 1, cv2.LINE_AA)
    microrelief = smooth_noise(rng, h, w, L / 5.0, 2)  # skin surface relief, ~5 px cells at 1024
    texture = 1 - 0.28 * pores - 0.08 * (lines / 255.0) + 0.06 * microrelief
    if spec.flaking:
        flakes = (smooth_noise(rng, h, w, 80, 1) > 0.75).astype(np.float32) * treated
        texture = texture + 0.12 * cv2.GaussianBlur(flakes, (0, 0), 0.8)
    rho = rho * texture[..., None]
    # pustule tops and crusts replace the skin's colour
    rho = rho * (1 - overlay_a[..., None]) + overlay * overlay_a[..., None]

    height = smooth_noise(rng, h, w, 2, 2)
    gy, gx = np.gradient(height * 25)
    light = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), 1.0])
    light /= np.linalg.norm(light)
    norm = np.sqrt(gx**2 + gy**2 + 1)
    shade = np.clip((-gx * light[0] - gy * light[1] + light[2]) / norm, 0.3, 1.0) ** 1.2
    shade = 0.55 + 0.45 * shade
    # specular sheen: the illuminant's colour, on the best-lit, oilier parts (fine and weak)
    sheen = np.clip(smooth_noise(rng, h, w, 4, 2), 0, None) ** 2
    spec_map = sheen * rng.uniform(0.0, 0.06) * shade**6
    skin_lin = rho * shade[..., None] + spec_map[..., None]
    return skin_lin, shade


def compose(spec: PhotoSpec, layout: Layout, skin_lin: np.ndarray, shade: np.ndarray, size: tuple[int, int],
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    """The whole frame in linear light: background, the skin, clothing and hair over it, the
    chart when the spec has one. Returns (image (H, W, 3), the chart's mask or None)."""
    w, h = size
    _L, yy, _xx = _grid(size)
    bg = np.array(spec.background, np.float32) * (0.8 + 0.2 * (yy / h))[..., None]
    bg = bg * (1 + 0.03 * smooth_noise(rng, h, w, 4))[..., None]
    img = np.where(layout.skin[..., None], skin_lin, color.srgb_to_linear(bg))
    if spec.clothing:
        cloth = color.srgb_to_linear(np.array(rng.uniform(0.05, 0.9, 3), np.float32)) * (
            0.8 + 0.2 * smooth_noise(rng, h, w, 20, 2)
        )[..., None]
        img = np.where(layout.clothing[..., None], cloth, img)
    if spec.hair:
        hair_col = color.srgb_to_linear(np.array([0.16, 0.11, 0.07], np.float32) * rng.uniform(0.3, 1.3))
        img = np.where(layout.hair[..., None], hair_col * (0.7 + 0.3 * shade[..., None]), img)
    on_chart = draw_chart(img, *spec.chart) if spec.chart is not None else None
    return img, on_chart


def chart_layout(cx: float, cy: float, pitch: float, angle_deg: float, long_side: int) -> tuple[np.ndarray, np.ndarray]:
    """A ColorChecker Classic's geometry: (frame corners (4, 2), patch corners (24, 4, 2)) in px,
    patches in the chart's reading order; patch side 0.8 pitch, frame 0.45 pitch beyond the patches."""
    p = pitch * long_side
    t = np.radians(angle_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    centre = np.array([cx, cy]) * long_side

    def place(uv):  # chart cells (u right, v down, origin at the chart's centre) -> px
        return (np.asarray(uv, np.float64) * p) @ rot.T + centre

    m = 0.45
    frame = place([[-3 - m, -2 - m], [3 + m, -2 - m], [3 + m, 2 + m], [-3 - m, 2 + m]])
    r, c = np.divmod(np.arange(24), 6)
    u, v = c - 2.5, r - 1.5
    half = 0.4
    sq = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
    patches = np.stack([place(np.stack([u[k] + sq[:, 0], v[k] + sq[:, 1]], 1)) for k in range(24)])
    return frame, patches


def draw_chart(img: np.ndarray, cx: float, cy: float, pitch: float, angle_deg: float) -> np.ndarray:
    """Paint a ColorChecker Classic (published sRGB values, matt black frame) into a linear scene
    in place; returns the chart's mask."""
    h, w = img.shape[:2]
    frame, patches = chart_layout(cx, cy, pitch, angle_deg, max(h, w))
    scale = 16  # 4 bits of sub-pixel precision: anti-aliased, exact edges
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.rint(frame * scale).astype(np.int32)], 255, cv2.LINE_AA, 4)
    ref = reference_linear()
    layer = np.zeros((h, w, 3), np.float32)
    layer[:] = color.srgb_to_linear(np.float32([0.1, 0.1, 0.1]))
    for k in range(24):
        cv2.fillPoly(layer, [np.rint(patches[k] * scale).astype(np.int32)], ref[k].tolist(), cv2.LINE_AA, 4)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    img[:] = img * (1 - alpha) + layer * alpha
    return mask > 127
