"""Face parsing: where a face is, its 468-point mesh, and the facial regions it gives.

MediaPipe's models (models/NOTICE-mediapipe.md; Apache-2.0), run with LiteRT (ai-edge-litert),
one thread, so the same photo gives the same mesh in every process:

1. Detection: BlazeFace short range (Bazarevsky V et al. BlazeFace: sub-millisecond neural face
   detection on mobile GPUs. arXiv:1907.05047, 2019) on the photo letterboxed to 128 x 128,
   values in [-1, 1]. 896 SSD anchors (strides 8, 16, 16, 16; 2 and 6 anchors per cell, unit
   size); box and six keypoints decoded as anchor + offset / 128; the best box above
   FACE_MIN_DETECTION_SCORE, averaged with the boxes overlapping it (IoU >= 0.3) by score, as
   MediaPipe's weighted non-maximum suppression does.
2. Mesh: the face-landmark model (Kartynnik Y et al. Real-time facial surface geometry from
   monocular video on mobile GPUs. arXiv:1907.06724, 2019) on a 192 x 192 crop, values in
   [0, 1]: a square FACE_ROI_SCALE times the box's long side, rotated so that the eyes (the
   detector's first two keypoints) are level. Its 468 points are mapped back to the photo.
3. Trust: a mesh is used only when the landmark model's own face-presence score is at least
   FACE_MIN_PRESENCE and the mesh of the mirrored crop, mirrored back, lies where this one lies
   (mean distance from each of its points to the nearest point of this mesh, in inter-ocular
   distances, at most FACE_MAX_MIRROR_ERROR). On half-face close-ups the mesh can be
   hallucinated (eyes placed on a cheek); both tests reject that.
4. A head in profile: the mesh is rejected (presence 0.0-0.9 on real profiles), but a box the
   detector is sure of (HEAD_MIN_DETECTION_SCORE) still says where the face is (`HeadBox`): the
   skin mask learns the person's colour inside it and takes the hair above it out, and lesions
   are looked for inside it away from its keypoints; it has no regions.

Regions (`regions`): every mesh vertex carries one of REGIONS (VERTEX_REGION, set once from the
vertices' place on a frontal face by scripts/face_regions.py); each triangle of the mesh is
drawn with its vertices' region, so a region follows the face in any pose. Eyes, brows, lips and
nostrils are not skin (`features_mask`): their outlines follow MediaPipe's face_mesh_connections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ..util.shipped import shipped
from . import config

DETECTOR, LANDMARKER = "face_detection_short_range.tflite", "face_landmark.tflite"


# --- the models -------------------------------------------------------------------------------
@cache
def _interpreter(name: str):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(shipped(name)), num_threads=1)
    it.allocate_tensors()
    return it


def _run(name: str, x: np.ndarray) -> list[np.ndarray]:
    it = _interpreter(name)
    it.set_tensor(it.get_input_details()[0]["index"], np.ascontiguousarray(x[None], np.float32))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


@cache
def _anchors() -> np.ndarray:
    """(896, 2) anchor centres in [0, 1] of BlazeFace short range: a 16 x 16 grid with 2 anchors
    per cell (stride 8), then an 8 x 8 grid with 6 (strides 16, 16, 16 share one grid)."""
    out = []
    for cells, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs.ravel() + 0.5) / cells, (ys.ravel() + 0.5) / cells], axis=1)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out).astype(np.float32)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


@dataclass(frozen=True)
class Detection:
    score: float
    centre: np.ndarray  #: (x, y) px
    size: tuple[float, float]  #: (w, h) px
    keypoints: np.ndarray  #: (6, 2) px: right eye, left eye, nose tip, mouth, right ear, left ear


def detect(rgb: np.ndarray) -> Detection | None:
    """The most confident face in an RGB photo (BlazeFace short range), or None."""
    h, w = rgb.shape[:2]
    side = max(h, w)
    pad = np.zeros((side, side, 3), np.uint8)
    ox, oy = (side - w) // 2, (side - h) // 2
    pad[oy: oy + h, ox: ox + w] = rgb
    small = cv2.resize(pad, (128, 128), interpolation=cv2.INTER_AREA if side > 128 else cv2.INTER_LINEAR)
    regressors, scores = _run(DETECTOR, small.astype(np.float32) / 127.5 - 1.0)
    score = _sigmoid(scores[0, :, 0])
    best = int(np.argmax(score))
    if score[best] < config.FACE_MIN_DETECTION_SCORE:
        return None
    raw = regressors[0] / 128.0
    anchors = _anchors()
    centres = raw[:, :2] + anchors
    sizes = raw[:, 2:4]
    keypoints = raw[:, 4:16].reshape(-1, 6, 2) + anchors[:, None]
    lo, hi = centres - sizes / 2, centres + sizes / 2
    inter = np.prod(np.clip(np.minimum(hi, hi[best]) - np.maximum(lo, lo[best]), 0, None), axis=1)
    iou = inter / (np.prod(sizes, axis=1) + np.prod(sizes[best]) - inter + 1e-9)
    group = (iou >= 0.3) & (score >= config.FACE_MIN_DETECTION_SCORE)
    wts = score[group] / score[group].sum()
    to_px = np.array([side, side], np.float32)
    offset = np.array([ox, oy], np.float32)
    return Detection(
        float(score[best]),
        (wts @ centres[group]) * to_px - offset,
        tuple(float(v) for v in (wts @ sizes[group]) * to_px),
        np.tensordot(wts, keypoints[group], axes=1) * to_px - offset,
    )


# --- the mesh ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Face:
    landmarks: np.ndarray  #: (468, 2) float32: (x, y) of the mesh's points in the photo's pixels
    detection: Detection  #: BlazeFace's box the mesh was fitted in
    presence: float  #: the landmark model's face-presence score, 0-1
    mirror_error: float  #: the mirrored crop's mesh against this one, in inter-ocular distances
    #: distance between the eye centres in the mesh's three dimensions, px of the photo (the
    #: landmark model's depth z shares x's scale): unlike `interocular` it does not shorten as
    #: the head turns
    interocular_3d: float

    @property
    def trusted(self) -> bool:
        """Present and mirror-consistent (see module docstring)."""
        return self.presence >= config.FACE_MIN_PRESENCE and self.mirror_error <= config.FACE_MAX_MIRROR_ERROR

    @property
    def interocular(self) -> float:
        """Distance between the eye centres, px."""
        return _eye_distance(self.landmarks)


def _crop_transform(det: Detection) -> np.ndarray:
    """2 x 3 affine map from the photo to the 192 x 192 landmark crop: a square of
    FACE_ROI_SCALE x the box's long side around the box centre, turned so the eyes are level."""
    (rx, ry), (lx, ly) = det.keypoints[0], det.keypoints[1]
    t = math.atan2(ly - ry, lx - rx)  # the eye line's angle in the photo (y down)
    side = max(det.size) * config.FACE_ROI_SCALE
    u = np.array([math.cos(t), math.sin(t)]) * side  # the crop's x axis in the photo
    v = np.array([-math.sin(t), math.cos(t)]) * side  # and its y axis
    corner = det.centre - (u + v) / 2
    src = np.float32([corner, corner + u, corner + v])
    return cv2.getAffineTransform(src, np.float32([[0, 0], [192, 0], [0, 192]]))


def _mesh(crop: np.ndarray) -> tuple[np.ndarray, float]:
    """(468, 3) landmarks (x, y, depth) in the crop's pixels and the face-presence score."""
    points, flag = _run(LANDMARKER, crop.astype(np.float32) / 255.0)
    return points.reshape(468, 3), float(_sigmoid(flag.ravel()[0]))


def _eye_distance(points: np.ndarray) -> float:
    """Distance between the eye centres of a mesh, in its coordinates (2 or 3 of them)."""
    return float(np.linalg.norm(points[RIGHT_EYE].mean(axis=0) - points[LEFT_EYE].mean(axis=0)))


def parse(rgb: np.ndarray) -> Face | None:
    """The face mesh of an upright RGB photo, or None when no face is detected (see module
    docstring; whether to use it: Face.trusted)."""
    det = detect(rgb)
    if det is None:
        return None
    to_crop = _crop_transform(det)
    crop = cv2.warpAffine(np.ascontiguousarray(rgb), to_crop, (192, 192), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    points3, presence = _mesh(crop)
    points = points3[:, :2]
    mirrored = _mesh(np.ascontiguousarray(crop[:, ::-1]))[0][:, :2]
    mirrored[:, 0] = 192.0 - mirrored[:, 0]
    from scipy.spatial import cKDTree

    mirror_error = float(cKDTree(points).query(mirrored)[0].mean() / max(_eye_distance(points), 1e-6))
    back = cv2.invertAffineTransform(to_crop)
    landmarks = (points @ back[:, :2].T + back[:, 2]).astype(np.float32)
    scale = math.sqrt(abs(np.linalg.det(back[:, :2])))  # the crop is a turned, scaled square
    return Face(landmarks, det, presence, mirror_error, _eye_distance(points3) * scale)


@dataclass(frozen=True)
class FaceMap:
    """A trusted face mesh drawn at a photo's size."""

    face: Face
    regions: np.ndarray  #: uint8 (H, W): index into REGIONS of every pixel (`regions`)
    inside: np.ndarray  #: bool (H, W): inside the face's outline
    features: np.ndarray  #: bool (H, W): eyes, brows and lips (features_mask)
    unsearched: np.ndarray  #: bool (H, W): no lesions are looked for here (`unsearched`)


def face_map(rgb: np.ndarray) -> FaceMap | None:
    """The regions and features of the face in a photo, or None when there is no face or its
    mesh is not trusted (the photo is then measured as a close-up)."""
    found = parse(rgb)
    return None if found is None else map_face(found, rgb.shape[:2])


def map_face(found: Face, shape: tuple[int, int]) -> FaceMap | None:
    """The FaceMap of a parsed face at a photo's size (H, W), or None when its mesh is not trusted."""
    if not found.trusted:
        return None
    return FaceMap(found, regions(found, shape), outline(found, shape), features_mask(found, shape), unsearched(found, shape))


@dataclass(frozen=True)
class HeadBox:
    """A face the detector is sure of whose mesh is not trusted (a head in profile): only where
    it is and its six keypoints. The skin mask learns the person's colour inside it and takes the
    hair above it out (skin.skin_mask_lab); lesions are looked for inside it, off its keypoints
    (features.maps.Measurements), as inside a face's outline off its features. It has no regions:
    the photo is otherwise measured as a close-up."""

    inside: np.ndarray  #: bool (H, W): the ellipse inscribed in the detector's box
    brow_row: int  #: the box's top row: BlazeFace's box starts at the brows
    unsearched: np.ndarray  #: bool (H, W): discs of HEAD_KEYPOINT_RADIUS around the eyes, nose tip, mouth and ears


def head_box(found: Face, shape: tuple[int, int]) -> HeadBox | None:
    """The HeadBox of a parsed face whose mesh is not trusted, when its detection score is at
    least HEAD_MIN_DETECTION_SCORE; else None."""
    det = found.detection
    if found.trusted or det.score < config.HEAD_MIN_DETECTION_SCORE:
        return None
    inside = np.zeros(shape, np.uint8)
    centre = tuple(int(round(v)) for v in det.centre)
    axes = tuple(max(1, int(round(v / 2))) for v in det.size)
    cv2.ellipse(inside, centre, axes, 0.0, 0.0, 360.0, 1, -1)
    unsearched = np.zeros(shape, np.uint8)
    radius = max(1, int(round(config.HEAD_KEYPOINT_RADIUS * max(det.size))))
    for x, y in det.keypoints:
        cv2.circle(unsearched, (int(round(x)), int(round(y))), radius, 1, -1)
    top = max(0, int(round(det.centre[1] - det.size[1] / 2)))
    return HeadBox(inside.astype(bool), top, unsearched.astype(bool))


# --- topology: MediaPipe's face_mesh_connections as closed outlines (vertex indices) --------
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]  # fmt: skip
RIGHT_EYE = [33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246]
LEFT_EYE = [263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466]
RIGHT_BROW = [70, 63, 105, 66, 107, 55, 65, 52, 53, 46]  # upper edge out to in, lower edge back
LEFT_BROW = [300, 293, 334, 296, 336, 285, 295, 282, 283, 276]
LIPS = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185]
#: the nostrils' openings, from the vertices around them on the mean frontal mesh
#: (scripts/face_regions.py's mean mesh; the left one the mirror image of the right)
RIGHT_NOSTRIL = [79, 239, 20, 242, 99, 240, 166]
LEFT_NOSTRIL = [309, 459, 461, 462, 328, 460, 392]

#: The regions a face is parsed into (0: none, where no mesh is); right and left are the
#: person's (the photo's left and right).
REGIONS = ("none", "forehead", "nose", "right_cheek", "left_cheek", "perioral", "chin", "periorbital")
#: The region (index into REGIONS) of each mesh vertex, one digit each, set by
#: scripts/face_regions.py from the vertices' place on the mean of 32 frontal faces.
VERTEX_REGION = np.frombuffer((
    "522222272115555555522177777777776737355555552277223211177532255121111111555255525555555555"
    "555325522233211151117377723337777372337272372333336233775366316777777777375525236637766355"
    "555555537775375272366653535363365333532227777773777777322222222777772721777777777767474555"
    "555522772242111775422551211111115552555255555555555554552224421115111747772444777747244727"
    "247244444624477546647777777774752546647764555555555477754757465454546446544454222777777477"
    "777742222222277777"
).encode(), np.uint8) - ord("0")


def regions(face: Face, shape: tuple[int, int]) -> np.ndarray:
    """uint8 (H, W) map of REGIONS: each pixel takes the region of its nearest mesh vertex (the
    vertices' Voronoi cells, cv2.Subdiv2D), so regions follow the face in any pose and skin just
    beyond the mesh takes the region it joins (the upper forehead, the ears beside the cheeks,
    the neck below the chin)."""
    h, w = shape
    pts = face.landmarks.astype(np.float64)
    lo, hi = np.floor(pts.min(axis=0)) - 2, np.ceil(pts.max(axis=0)) + 2
    subdiv = cv2.Subdiv2D((int(lo[0]), int(lo[1]), int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1))
    ids = [subdiv.insert((float(x), float(y))) for x, y in pts]  # coincident points share an id
    cells, _centres = subdiv.getVoronoiFacetList(ids)
    out = np.zeros((h, w), np.uint8)
    for k in range(1, len(REGIONS)):
        polys = [np.rint(c).astype(np.int32) for c, v in zip(cells, VERTEX_REGION) if v == k]
        cv2.fillPoly(out, polys, k)
    return out


def _polygon_mask(face: Face, shape: tuple[int, int], *outlines: list[int], grow: float = 0.0) -> np.ndarray:
    """bool (H, W): the polygons through these outlines of mesh vertices, grown by `grow`
    inter-ocular distances (their outlines drawn that thick: OpenCV's thick lines have round
    ends, so this is the polygons dilated by a disk, without a full-frame dilation)."""
    mask = np.zeros(shape, np.uint8)
    polys = [np.rint(face.landmarks[v]).astype(np.int32) for v in outlines]
    cv2.fillPoly(mask, polys, 1)
    r = int(round(grow * face.interocular))
    if r > 0:
        cv2.polylines(mask, polys, True, 1, thickness=2 * r + 1)
    return mask.astype(bool)


def outline(face: Face, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W): inside the face's outline (the mesh's oval, forehead to chin)."""
    return _polygon_mask(face, shape, FACE_OVAL)


def features_mask(face: Face, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W): the eyes, brows and lips: never skin, never a reference. (Grown by a margin
    they cost more skin than they kept out: mean IoU on the real-dev masks 0.826 -> 0.834 without.)"""
    return _polygon_mask(face, shape, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS)


def eyes_mask(face: Face, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W): the eyes' openings."""
    return _polygon_mask(face, shape, RIGHT_EYE, LEFT_EYE)


def unsearched(face: Face, shape: tuple[int, int]) -> np.ndarray:
    """bool (H, W): where lesions are not looked for: the eyes, brows, lips and nostrils grown by
    FACE_LESION_MARGIN inter-ocular distances. Lashes, the eyes' corners, the mouth's corners
    and the nostrils' rims are dark, red or shiny on every face."""
    return _polygon_mask(face, shape, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, LIPS, RIGHT_NOSTRIL, LEFT_NOSTRIL,
                         grow=config.FACE_LESION_MARGIN)  # fmt: skip
