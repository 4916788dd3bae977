"""Every tunable of measuring (pixels to numbers), each with the reason for its value.

Function bodies in triage.measure take their constants from here ("no magic constants in
function bodies"). `triage.pipeline.config_hash()` fingerprints this file and
triage/decide/config.py so that two result rows can be told comparable (same software version +
same config + same model); the feature cache is keyed by the source of all of triage.measure.
"""

from __future__ import annotations

# --- decoding (triage.measure.io) ----------------------------------------------------------------
#: Long side of the working image, in pixels. 1024 x 768 (0.79 MP) keeps the smallest lesion
#: the features look for (a 1-2 mm pustule in a 10-15 cm wide close-up, about 8-14 px) above
#: 5 px, while a 12 MP JPEG can be decoded at 1/2 DCT scale (2016 x 1512) and reduced from there.
#: Every image is brought to this size so that pixel-scale parameters below mean the same
#: physical fraction of the frame for every camera.
WORK_LONG_SIDE = 1024
#: Refuse images above this many pixels, in Pillow and in OpenCV. 100 MP is above every phone
#: camera (48-108 MP sensors bin to 12-24 MP photos) and far below a decompression bomb
#: (a 20000 x 20000 PNG is 400 MP).
MAX_IMAGE_PIXELS = 100_000_000
#: Photos whose long side is below this are flagged `low_resolution`: below ~400 px a pustule
#: is 2-3 px and cannot be told from noise.
MIN_LONG_SIDE = 400
#: Containers decoded (Pillow's names; JPEG includes MPO, a JPEG with extra frames). Anything
#: else is "not an image" whatever its name says: every other Pillow plugin (GIF, ICO, PSD, EPS,
#: which would run Ghostscript, ...) is attack surface for no photo a clinic takes.
DECODE_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "HEIF")
#: Largest file read, in bytes. A phone's 48 MP HEIC is ~10 MB and a 12 MP 16-bit TIFF 72 MB;
#: 128 MiB leaves room for uncompressed scans while a device, an endless file or a video named
#: .jpg is refused from its size before it is read (the file is held whole while it is decoded).
MAX_FILE_BYTES = 128 * 2**20
#: Memory a decode may take: the file's bytes plus the decoder's own buffers as estimated from
#: the header (see DECODE_EXTRA_BYTES_PER_PIXEL); a photo needing more is refused before any
#: pixel is decoded. A worker holds ~110 MB before decoding (Python, NumPy, OpenCV, Pillow, the
#: model), so 288 MiB keeps its peak under 500 MB (tests/measure/test_decode_memory.py measures
#: it per format): 12 MP photos need 15-200 MB in every format; the largest accepted are ~75 MP
#: colour PNG and TIFF (100 MP grey), ~33 MP 24-bit BMP and HEIF, ~16 MP WebP, and a progressive
#: JPEG up to ~95 MP (4:2:0).
DECODE_MAX_BYTES = 288 * 2**20
#: Bytes per pixel of the full image that a decoder holds beside Pillow's own pixel storage (1, 2
#: or 4 bytes a pixel by mode), measured as peak RSS (/proc VmHWM) on 12-16 MP images: libwebp's
#: canvas, its current frame and Pillow's bytes copy of it (3 x 4 bytes; measured 12.4-13.5);
#: libheif's YCbCr planes and RGB output (measured 3.7-4.1, 8 and 10 bits); Pillow's RLE decoder
#: for BMP, which builds the pixels in a bytearray and copies them once (2 bytes a pixel). PNG and
#: TIFF decode into Pillow's storage (TIFF plus one strip or tile, counted from its header); JPEG
#: into its reduced size (plus the whole image's DCT coefficients when it has several scans).
DECODE_EXTRA_BYTES_PER_PIXEL = {"WEBP": 14.0, "HEIF": 5.0, "BMP": 2.0}
#: Pixels converted to 8-bit RGB at a time after decoding. A strip's conversion holds ~20 bytes a
#: pixel at its peak (the crop, its array copy and the integer or float temporaries of alpha
#: compositing and scaling): ~5 MB here, inside the 16 MB the decode estimate leaves for it
#: (tests/measure/test_decode_memory.py); at 1 << 20 an RGBA PNG's strips took 20-30 MB. About 46
#: strips for 12 MP, a crop and a resize each.
DECODE_STRIP_PIXELS = 1 << 18

# --- colour normalisation (triage.measure.normalise) ---------------------------------------------
#: Minkowski norm of the shades-of-gray white balance (Finlayson & Trezzi 2004: p = 6 was
#: their best single value on real scenes).
SHADES_OF_GRAY_P = 6
#: A pixel is a candidate neutral (for white balance) when its chroma in float Lab is below
#: this value and it lies outside the main skin-coloured region. 14 admits grey walls and white
#: towels under a typical white-balance error (a 3000-6500 K mismatch tints a grey wall to
#: C* ~ 6-12) while the body of the skin (C* >= 12 even on very light skin) is outside it anyway.
NEUTRAL_MAX_CHROMA = 14.0
#: ...and a skin-hued pixel is a neutral only below this chroma: a shaded very light skin can
#: fall to C* ~ 6-8, and white-balancing on it would grey the person's own skin.
NEUTRAL_SKIN_HUED_CHROMA = 5.0
#: ...and when its luminance is above this L*: dark pixels carry sensor noise, not illuminant.
NEUTRAL_MIN_L = 35.0
#: At least this share of the frame must be candidate neutrals for white balance to be applied;
#: below it the image is left as captured (a frame full of skin has no reliable neutral, and
#: gray-world over skin would remove the very redness we measure).
NEUTRAL_MIN_FRACTION = 0.02
#: Clamp on per-channel white-balance gains: larger corrections are more likely a coloured
#: background than a colour cast.
WB_MAX_GAIN = 1.6
#: White balance is judged on the photo reduced by this factor (area average; 512 x 384 for the
#: working size): its gains are Minkowski means over thousands of neutral pixels and the skin
#: region only keeps the skin out of them, so a quarter of the pixels gives the same correction
#: at a quarter of the cost of a second full-size Lab conversion and skin region. On the 1,033
#: real-dev photos 14 decisions changed (12 of them to a correction); at a quarter size (4), 27.
WB_SCALE = 2
#: A white balance is not applied when it would move the median of the main skin-coloured region
#: to a hue above this (skin spans 35-75 deg across all groups, Del Bino 2006; generated
#: backdrops tinted purple-grey, taken as neutral, pushed pale skin to 90-104 deg, out of the
#: skin mask).
WB_MAX_SKIN_HUE_DEG = 80.0

# --- ColorChecker (triage.measure.chart) ---------------------------------------------------------
#: Patches are looked for at 1/2 of the working size: a quarter of the pixels to label (5 -> 2 ms
#: per photo), and a patch of the smallest size below is still 6 px there.
CHART_SCALE = 2
#: Canny hysteresis thresholds on the 8-bit grey image at that scale (INTER_AREA is the blur):
#: the chart's black frame against its patches is a step of >= 30 grey levels (its black patch
#: excepted, which may be missed); skin texture and JPEG noise stay mostly below 20.
CHART_CANNY = (20, 60)
#: Smallest patch side (px at WORK_LONG_SIDE): a chart at least ~90 px wide (9% of the long
#: side); smaller, its patches are too few pixels to correct a whole photo with.
CHART_MIN_PATCH_SIDE = 12
#: Largest patch as a share of the frame: a chart filling the whole frame has patches of ~2.7%.
CHART_MAX_PATCH_SHARE = 0.04
#: A patch's rectangle may be this much longer than wide (a chart tilted ~40 deg away from the camera).
CHART_MAX_ASPECT = 1.3
#: A patch fills at least this share of its rectangle (squares; skin pores and blobs do not).
CHART_MIN_FILL = 0.8
#: Patches that must be found on one lattice: over half of the 24, so that a chance grid of
#: squares (tiles, a keyboard) rarely qualifies and the colour fit decides where the rest lie.
CHART_MIN_PATCHES = 14
#: A centre is on the lattice when within this share of the pitch of a lattice point.
CHART_LATTICE_TOLERANCE = 0.25
#: Patch colour = median over a central box of this share of the pitch (patches are ~80% of the
#: pitch, so the box stays inside a patch even when its centre is off by a tenth of the pitch).
CHART_SAMPLE_SHARE = 0.4
#: Placement accepted when a 3 x 3 matrix maps its 24 samples to the published values with a
#: relative RMS residual at most this. Measured on generated charts under the generator's casts:
#: <= 0.03; the same chart with its patches shuffled: >= 0.62. 0.2 leaves room for a camera's
#: tone curve, which a 3 x 3 matrix in linear light does not model.
CHART_MAX_RESIDUAL = 0.2
#: The fitted correction is used when its mean CIEDE2000 against cv2.ccm's reference is at most
#: this. Generated charts: 0.9-1.0 (the published sRGB values against cv2.ccm's Lab reference);
#: shuffled patches: >= 24. Linear 3 x 3 fits of real phone photos are reported at 2-5.
CHART_MAX_LOSS = 6.0
#: The chart's frame extends this many pitches beyond its outer patches' cells (taken out of the
#: skin mask with the patches: its 'light skin' patch is skin-coloured).
CHART_FRAME_CELLS = 0.4

# --- face parsing (triage.measure.face) ------------------------------------------------------------
#: BlazeFace's score for a face: MediaPipe's own default (min_score_thresh 0.5 in its face
#: detection graphs).
FACE_MIN_DETECTION_SCORE = 0.5
#: The landmark crop is this many times the detected box's long side (MediaPipe's face landmark
#: graph scales the detection rect by 1.5 and squares it).
FACE_ROI_SCALE = 1.5
#: The mesh is trusted when the landmark model's face-presence score is at least this: about 0.9
#: rejected every hallucinated mesh on half-face close-ups tried when this was set (issue 18);
#: whole faces score 0.99-1.0.
FACE_MIN_PRESENCE = 0.9
#: ...and when the mesh of the mirrored crop, mirrored back, lies within this mean distance of it
#: (in inter-ocular distances).
FACE_MAX_MIRROR_ERROR = 0.1
#: A face the detector is this sure of, whose mesh is not trusted, is a head (in profile): its box
#: is where the skin mask learns the person's colour (face.HeadBox). On ../shared/real-dev the 22
#: healthy profiles whose mesh is rejected score 0.76-0.95; the 56 clinical close-ups where the
#: detector fires but the mesh is rejected score 0.52-0.72 (90th percentile 0.67), but for one
#: whole acne face (0.82).
HEAD_MIN_DETECTION_SCORE = 0.75
#: No lesions are looked for within this share of the box's long side around each of the
#: detector's six keypoints of a head in profile (eyes, nose tip, mouth, ears): its glints, folds,
#: nostrils and ear canal are what the mesh's features mask keeps out of a parsed face. On
#: ../shared/real-dev (22 profiles) 0.10 / 0.15 / 0.20 give AUROC 0.863 / 0.863 / 0.864 and healthy
#: faces called normal 35 / 36 / 36% (0.858 and 34% without): flat; the middle is kept.
HEAD_KEYPOINT_RADIUS = 0.15

# --- skin segmentation (triage.measure.skin) -----------------------------------------------------
#: Broad prior of skin chromaticity in float Lab, wide enough for ITA -60..+75 deg under
#: moderate casts: hue angle h = atan2(b*, a*) in degrees, chroma C* range.
SKIN_HUE_DEG = (5.0, 88.0)
SKIN_CHROMA = (7.0, 60.0)
SKIN_L = (8.0, 97.0)
#: Flushed skin: intense erythema on very light skin is pink-red with b* near 0 (hue -2..5 deg;
#: measured on generated grade-4 erythema, where the prior above dropped it and the redness
#: features saw nothing). Pixels with hue down to this angle are skin when they are redder than
#: the person's own skin by SKIN_FLUSH_MIN_DELTA_A, pass the same b*/L* tests as the rest of
#: their skin (pink and magenta backgrounds have b* far below it) and are connected to it;
#: below -20 deg is magenta/violet, not blood. With a parsed face, only inside its outline: a
#: pink-red shirt joining the neck passed every test (../shared/real-dev: one SFA portrait, mask
#: IoU 0.68 -> 0.91, its P90 redness +41 -> +3.7 a*; no other photo changed).
SKIN_FLUSH_HUE_MIN_DEG = -20.0
SKIN_FLUSH_MIN_DELTA_A = 6.0
#: Adapted per image: pixels within this Mahalanobis distance of the Gaussian fitted to the
#: prior-selected pixels (in L*, a*, b*) are skin. sqrt(chi2.ppf(0.99, 3)) = 3.37.
SKIN_MAHALANOBIS = 3.4
#: ...plus these floors (CIELAB units, L*, a*, b*): L* no more than the first below the person's
#: (shading), a* no more than the second below it (a* may rise freely: erythema, halos and
#: bruises are skin), b* within the third of it.
SKIN_MARGINS = (12.0, 5.0, 6.0)
#: With a parsed face the colour is learned from the face's own skin, so the bounds can be
#: tighter, and dark or shaded skin needs a lower chroma floor than the broad prior's. Set on the
#: 362 hand-drawn masks of ../shared/real-dev (healthy faces): mean IoU with (k, margins, chroma
#: floor, hue margin) = (3.4, (12, 5, 6), 7, -) 0.749; (2.5, (8, 4, 4), 3, 8) 0.818;
#: (2.0, (8, 4, 4), 3, 8) 0.834 (frontal 0.92, multipose 0.83, portraits 0.82); k 1.5: 0.80; a
#: texture test or a zone around the face's outline lowered it (0.75-0.81): the masks count the
#: neck and ears, and at 90 deg of yaw much of the cheek lies beyond the mesh.
SKIN_FACE_MAHALANOBIS = 2.0
SKIN_FACE_MARGINS = (8.0, 4.0, 4.0)
SKIN_FACE_MIN_CHROMA = 3.0
#: Outside the face's outline the hue must lie within SKIN_FACE_MAHALANOBIS robust deviations of
#: the face's plus this (degrees).
SKIN_FACE_HUE_MARGIN = 8.0
#: The head's hair beside and above a parsed face (skin.head_hair): its colour is learned from the
#: pixels within HAIR_RING face heights of the face's outline, above the brows, darker than the
#: face's median L* by HAIR_DARKER robust deviations, when they are at least HAIR_MIN_SHARE of
#: that ring (a bald head or a hat leaves none: nothing is taken). Brown and blond hair pass every
#: colour test of the face's skin (its hue and a*); on the 362 hand-drawn masks of
#: ../shared/real-dev the mean IoU went from 0.833 to 0.846 (multipose 0.833 -> 0.851, portraits
#: 0.815 -> 0.822, frontal 0.921 -> 0.923; 142 faces better by more than 0.01, 17 worse, at most
#: by 0.036: a shaded band of forehead above the mesh). Between 0.5 and 1.5 deviations and 0.08
#: and 0.25 face heights the IoU stayed within 0.842-0.846; taking hair inside the outline too (a
#: fringe) gained 0.002 but took the upper forehead of shaded or dark skin.
HAIR_RING = 0.15
HAIR_DARKER = 1.0
HAIR_MIN_SHARE = 0.025
#: Morphological opening/closing radius (px at WORK_LONG_SIDE) and minimum component size as a
#: share of the frame; hair strands (2-4 px wide) are removed by the opening.
SKIN_MORPH_RADIUS = 3
#: The skin's body is segmented on the photo reduced by this factor (512 x 384 for the working
#: size) and the mask brought back bilinearly (skin.skin_mask_lab): a quarter of the pixels for
#: every colour test, opening, hole and component pass. The opening above becomes
#: ceil(SKIN_MORPH_RADIUS / SKIN_SCALE) = 2 px there (10 px across at full size against 7): on
#: the 362 healthy real-dev faces its masks match the full-size ones (skin share -0.06% on
#: average, IoU with the hand masks 0.833 against 0.834), where 1 px grew them (+0.38%, IoU
#: 0.832) and with them the darkest twentieth of the skin (melanin_index_delta +0.5). Hair
#: (2-5 px strands) is still found at full size.
SKIN_SCALE = 2
#: Hair: black-hat of L* with an 11-px disk (hair strands are 2-5 px wide at the working size)
#: deeper than 12 L* units (hair is 20+ darker than the skin beside it; pores 8-10).
HAIR_KERNEL = 11
HAIR_BLACKHAT = 12.0
HAIR_MIN_LENGTH = 20
SKIN_MIN_COMPONENT_FRACTION = 0.01
#: The person's skin colour is learned in the middle half of the frame (each direction): photos
#: of treated skin are framed on it, while orange walls, pink towels and wood around it can be
#: larger than the skin and pass the broad prior (generated failures: IoU 0.47 and 0.004).
SKIN_CENTRAL_BOX = 0.5

# --- quality gate (triage.measure.quality) -------------------------------------------------------
#: Too little skin to assess: below 10% of the frame.
MIN_SKIN_FRACTION = 0.10
#: Median L* of the skin (of the frame when no skin is found) below this: too dark. The
#: darkest ITA band's untreated skin is L* ~ 28-35 when well exposed; 22 leaves room for shade.
MIN_SKIN_MEDIAN_L = 22.0
#: Overexposed: more than MAX_CLIPPED_SKIN_FRACTION of the skin blown out (CLIP_MIN_CHANNELS
#: channels >= CLIP_LEVEL), or more than MAX_ANY_CLIPPED_SKIN_FRACTION with any channel clipped.
#: Red alone saturates on red or orange skin (erythema, sunburn, vivid flash close-ups, a
#: white-balance gain on red) while lightness and texture stay: on ../shared/real-dev all 22 photos
#: that "any channel over 20%" flagged (DermNet flash close-ups, 20-68% of the skin, none blown out
#: by eye) were red-only, 0-0.2% with two channels; two channels reach at most 0.7% of any real
#: photo's skin (glints, teeth). Generated overexposed photos: two channels on 53-100% of the frame
#: (no skin left in the mask). But skin exposed to the clip level (generated, skin Y = 1.0-1.3) keeps
#: a rim in the mask that is red-clipped on 100% and two-channel-clipped on 0-2% of it: hence the
#: second bound, above the real photos' 68%.
MAX_CLIPPED_SKIN_FRACTION = 0.20
CLIP_MIN_CHANNELS = 2
MAX_ANY_CLIPPED_SKIN_FRACTION = 0.90
#: Sharpness = robust variance (1.4826 * MAD)^2 of the Laplacian of log-luminance over the
#: skin, on the photo reduced to 1/SHARPNESS_SCALE of its own resolution, at most of the working
#: one (256 px wide): the scale of pores and relief survives, pixel noise is averaged away;
#: log-luminance makes it independent of exposure, the MAD ignores the few strong edges (hair, the
#: skin's outline). Measured on generated 1024-px photos (training set seed 1000): blurred with
#: sigma >= 0.7% of the frame 0.0002-0.0024; typical in-focus 0.0086-0.0135; but 1% of in-focus
#: photos (soft capture + JPEG 75) fall at 0.0013-0.0043. 0.0025 catches every blurred one measured
#: and half of those soft ones. Of the photo's own resolution, not of the working one: at 256 px a
#: 512-px photo is judged at 2 of its own pixels, where small cameras, JPEG and enlargement have
#: little left (../shared/real-dev healthy faces, FASSEG, long side 504-670 px: median 0.0039, 26 of
#: 212 below 0.0025, in focus by eye; about the same on the files before enlargement to 1024 px,
#: 0.0013-0.0028 for 10 of them; at 4 of their own pixels 0.0060-0.036, none below). Generated
#: photos shrunk to 480 px and enlarged: in-focus 0.0032-0.010, blurred 0.0001-0.0017.
SHARPNESS_SCALE = 4
MIN_SHARPNESS = 2.5e-3
#: Collage: several pictures in one frame (before/after composites, app mosaics) have no single
#: person's skin to measure against. Four pictures meet in a cross of straight seams spanning the
#: whole frame. On Lab reduced to at most COLLAGE_SIZE px (long side), a column (row) is a seam
#: when over COLLAGE_MIN_SHARE of its length steps by more than COLLAGE_STEP_DELTA_E (colour
#: difference Delta E*ab) to the next and by COLLAGE_STEP_RATIO times more than the steps two
#: pixels either side (a seam is one step; an edge in a scene is blurred over several). Colour,
#: not only L*, since two tiles often have the same brightness. Values from ../shared/real-dev
#: (mosaic exports at 512 px: 190 of 244 photos have both seams, by eye all but ~3 of its mosaics;
#: L* alone at 256 px found 160) and 300 generated photos (none; their clothing bands are one
#: straight seam, never two; the highest share of the weaker seam is 0.16).
COLLAGE_SIZE = 512
COLLAGE_STEP_DELTA_E = 4.0
COLLAGE_STEP_RATIO = 2.0
COLLAGE_MIN_SHARE = 0.3
#: Two pictures side by side (or one above the other, as before/after composites are made) meet in
#: one straight seam: a seam over COLLAGE_SINGLE_MIN_SHARE of the frame's height (width), in the
#: middle COLLAGE_SINGLE_SPAN of the frame (each picture fills at least a quarter of it; a
#: skin-coloured garment's straight hem near the frame's edge is not a seam), that has skin on
#: both sides in COLLAGE_SKIN_BOTH_SIDES of its length and steps in COLLAGE_SKIN_STEP_SHARE of
#: those rows. Measured on pairs of different generated people (as
#: tests/measure/test_quality.py composes them): 22 of 25 side by side and 20 of 25 one above the other
#: flagged (seam share 0.8-1.0, steps in 0.8-1.0 of the rows with skin on both sides); no single
#: generated photo (0 of 325: seam share at most 0.41, never with skin on both sides); on
#: ../shared/real-dev two more photos than the cross test, both 4-picture mosaics whose cross it
#: missed (acne04_grade0/00120, acne_purulent/00584). Not caught: two crops of the same photo side
#: by side (same skin, same light: seam share 0.13-0.49, 0 of 25).
COLLAGE_SINGLE_MIN_SHARE = 0.5
COLLAGE_SINGLE_SPAN = (0.25, 0.75)
COLLAGE_SKIN_BOTH_SIDES = 0.25
COLLAGE_SKIN_STEP_SHARE = 0.5
#: A linear channel value at or above this counts as clipped (8-bit 250 after the sRGB curve).
CLIP_LEVEL = 0.955
#: Skin whose median hue angle h = atan2(b*, a*) lies outside [MIN, MAX] has a colour cast
#: (skin of every ITA band lies within 25-70 deg in daylight, Del Bino 2006; fiery erythema
#: pulls light skin down to ~20 deg). The upper bound leaves room for cameras' warm renderings:
#: healthy studio portraits of ../shared/real-dev (SFA, white backgrounds neutral) reach 81.5-81.7
#: deg (a* 3.7-4.1, b* 25-28; 3 of 150 flagged at 80, natural by eye); at 85, a* < 0.09 b*: skin
#: with almost no red, a yellow-green cast. (DermNet: 1 photo at 83.6, olive-grey axilla, passes.)
MIN_SKIN_HUE_DEG = 12.0
MAX_SKIN_HUE_DEG = 85.0
#: With no skin found: the frame's median a* or b* below -this (green or blue) or its median
#: chroma above CAST_MAX_CHROMA is a colour cast.
CAST_MAX_NEGATIVE = 6.0
CAST_MAX_CHROMA = 45.0
#: Fewer than 1% of the pixels with chroma at or above this (its 99th percentile below it): a
#: black-and-white photo (JPEG noise keeps C* ~ 1-2). Counted on the photo halved (2 x 2 means).
GRAYSCALE_MAX_CHROMA = 4.0

#: Medians, percentiles and MADs over the skin are taken on at most this many skin pixels,
#: evenly strided in raster order (triage.measure.regions.sample_index). The standard error of a median of n
#: samples is 1.2533 sigma / sqrt(n): with 65,536 pixels 0.5% of the skin's spread (~0.02 a*),
#: far below JPEG noise, at a tenth of the cost of all ~500,000 skin pixels. 16,384 would save
#: 14 ms a photo but leaves the facial regions few pixels each (FACE_REGION_MIN_PIXELS): on the
#: healthy real-dev faces the cheek asymmetry's P95 change grew from 0.1 to 1.4 a* and ITA's
#: from 1.0 to 3.5 deg (issue 23).
STATS_MAX_PIXELS = 65536
# --- features (triage.measure.features) ----------------------------------------------------------
#: With a parsed face, lesions are not looked for within this many inter-ocular distances of the
#: eyes, brows, lips and nostrils (triage.measure.face.unsearched): on the healthy faces of
#: ../shared/real-dev the dark eye and mouth corners, lashes and nostril rims were most of the
#: "dark patches" and "bruises" left once the lesion search was kept inside the face's outline.
FACE_LESION_MARGIN = 0.08
#: ...and with a face or a head box, a dark macule that reaches within this many px of the edge of
#: where lesions are looked for (that margin, the face's outline, the jaw's, hairline's and ears'
#: edge; detect.clear_of_edge) is that edge's shade running into the search area. On the 340
#: parsed healthy faces of ../shared/real-dev half of the dark-macule pieces (293 of 585) touched
#: the features' margin (their nearest pixel 0.083-0.092 inter-ocular distances from the
#: features), mostly around the eyes; of the 278 left, 129 touched the outline or the skin's edge
#: (ears, hair, beard, glasses, the jaw's shadow). On the evaluation canvases the painted dark
#: patches are separated from none with AUROC 0.622 (no rule) -> 0.713 (the features' margin) ->
#: 0.743 (every edge).
SEARCH_EDGE_PX = 2
#: Gaussian sigma (px) of the local background that dark macules and pustule tops are measured
#: against (L_loc): larger than the largest macule (~60 px radius), smaller than a cheek.
LOCAL_SIGMA = 80.0
#: Gaussian sigma (px) of the local background of red dots, papules and bleeding points (a_loc):
#: a papule is at most ~13 px in radius.
DOT_SIGMA = 12.0
#: Lesions are looked for in the skin's interior only, the mask eroded by a disk of this radius
#: (px): colour bleeds across the skin's outline (JPEG 4:2:0 chroma, lens blur).
LESION_EDGE_MARGIN = 4
#: The untreated-looking reference without a parsed face: skin pixels whose a* is below this
#: quantile of the skin's a* (the less-red half).
REFERENCE_QUANTILE = 0.5
#: With a parsed face: each region's usual (L*, a*, b*) offset from the face's level on healthy
#: faces, measured by `scripts/face_regions.py --offsets` on the 340 healthy faces of
#: ../shared/real-dev with a trusted mesh (medians over faces; the forehead is lighter, the chin
#: darker and less red, the nose redder, the skin around the eyes darker). Between faces a
#: region's a* offset spans about P10-P90 -2.8 to 3.3 (forehead), 0.3 to 4.7 (nose), -1.9 to 2.2
#: (cheeks), -2.4 to 0.9 (around the mouth), -4.6 to 0.1 (chin), -2.4 to 0.3 (around the eyes):
#: a regional reference leaves ~2-3 a* units of natural variation, where the less-red half of
#: the skin left the cheeks and nose 5-14 units "red".
FACE_REGION_OFFSETS = {
    "forehead": (4.6, 0.1, 0.3),
    "nose": (1.1, 1.8, 0.0),
    "right_cheek": (1.9, 0.2, 0.2),
    "left_cheek": (1.4, 0.1, 0.0),
    "perioral": (-0.9, -0.2, 0.0),
    "chin": (-3.3, -1.5, -0.7),
    "periorbital": (-2.5, -0.7, -0.3),
}
#: A region counts towards the face's level when at least this many of its skin pixels are in the
#: sample (of STATS_MAX_PIXELS): a median of 200 pixels has a standard error of ~0.1 of their spread.
FACE_REGION_MIN_PIXELS = 200
#: The face's level is the median of the estimates of the regions no beard covers (forehead,
#: nose, around the eyes) when at least two of them are measured, else of all. Stubble greys the
#: cheeks, the chin and around the mouth (darker, less red): with all seven, a stubbled face's
#: level fell below its forehead's and its bare skin read as strong redness (SFA portraits of
#: ../shared/real-dev, mostly young men: 25% of them called seek-care).
FACE_LEVEL_REGIONS = ("forehead", "nose", "periorbital")
#: Graded redness thresholds on delta a* (a* minus the reference a*). 4 units is about one
#: just-noticeable step of erythema on light skin, 8 marked, 14 fiery.
REDNESS_DELTA_A = 4.0
REDNESS_STRONG_DELTA_A = 9.0
#: Gaussian sigma (px) smoothing the delta-a* map before thresholding redness regions; pores
#: and noise are ~1-2 px.
REDNESS_SMOOTH_SIGMA = 3.0
#: Pixels darker than the skin around them (L_loc below -this) that are not red form dark
#: macules; PIH is 5-15 L* darker than the surrounding skin.
MACULE_DELTA_L = 6.0
#: ...and not redder than the skin around them: a_loc below this.
MACULE_MAX_DELTA_A = 5.0
#: Minimum macule area (px at WORK_LONG_SIDE); smaller dark spots are pores.
MACULE_MIN_AREA = 60
#: ...and compact: a macule is a circumscribed patch (generated PIH: elongation <= 2.7 and
#: solidity >= 0.74 in 95% of them, regions.elongation_solidity), while the shading of a face's
#: relief (the sides of the nose, eye sockets, the cheek turning away at the outline) darkens
#: long or curved bands. On the first 25 ACNE04 grade-0 photos of ../shared/real-dev (whole faces,
#: each mosaic picture measured alone) these two limits drop 84% of the "dark macule" area; on
#: 300 generated photos they keep 99% of it where there is PIH (25 photos, all still found).
MACULE_MAX_ELONGATION = 3.0
MACULE_MIN_SOLIDITY = 0.6
#: ...and browner than the skin MACULE_RING px (inner, outer) around it, not only darker: more
#: melanin (triage.measure.chromophores, shading and exposure projected out) by at least
#: MACULE_MIN_DELTA_MELANIN. Dark candidates on ../shared/real-dev: on the 362 healthy faces
#: (shadows of the relief, hairlines, stubble) the median melanin step is +0.08, on the PIH,
#: melasma and ADMH close-ups +0.29; the limit keeps 63% of the latter's candidates and 26% of
#: the former's. (Asking for more chroma too kept 54% and 18%, but lost generated PIH on dark
#: skin, where melanin lowers chroma: sensitivity 1.00 -> 0.71 on 300 generated photos.)
MACULE_RING = (2, 10)
MACULE_MIN_DELTA_MELANIN = 0.2
#: With a parsed face its scale is known: the distance between the eye centres is about
#: FACE_INTEROCULAR_MM in adults (mean interpupillary distance 63 mm, 95% within 53-73 mm:
#: Dodgson NA, Proc SPIE 2004;5291:36-46). A lone dark spot smaller than MACULE_NAEVUS_MAX_MM
#: across is the size of a freckle or a common mole (acquired naevi are mostly under 5-6 mm: the
#: "D" of the ABCDE rule, Abbasi NR et al., JAMA 2004;292:2771-6), which a whole face shows
#: whether treated or not, so such spots count as dark patches only when there are at least
#: MACULE_PATTERN_MIN_COUNT of them (hyperpigmentation in a pattern: melasma and PIH over a
#: treated area come as many spots or as larger patches). On the 362 healthy faces of
#: ../shared/real-dev the dark spots found measure 2.2 / 3.3 / 6.3 mm (P10 / median / P90) and
#: 93 of 104 faces have at most 2; the rule clears 62 of them and keeps the melasma face's 28
#: spots (the pigment close-ups have no face: unchanged). The scale is the mesh's 3-D eye
#: distance (Face.interocular_3d): the 2-D one of a head turned 60-90 deg is 0.57 of a frontal
#: one's (FASSEG multipose, against the eyes-to-mouth length), which made a turned face's moles
#: look 5-13 mm across; 15 more healthy faces' lone spots are then mole-sized. The limit is the
#: ABCDE rule's D, 6 mm: the dark region found takes in a spot's blurred rim (one sitter's cheek
#: mole measures 5.3, 5.6, 6.1 and 7.1 mm in four FASSEG poses), and at 5 mm the lone moles of 6
#: more healthy faces (5.2-5.8 mm) still counted as dark patches.
FACE_INTEROCULAR_MM = 63.0
MACULE_NAEVUS_MAX_MM = 6.0
MACULE_PATTERN_MIN_COUNT = 4
#: Bright spots on a red base (detect.bright_spots), the first step of pustules and vesicles: a
#: top brighter than the local skin (L_loc > SPOT_DELTA_L) of radius SPOT_RADIUS px, its ring
#: (SPOT_RING px, inner and outer) redder than the reference there by SPOT_HALO_DELTA_A and
#: darker than the top by SPOT_RING_DELTA_L (medians).
SPOT_DELTA_L = 6.0
SPOT_RADIUS = (2.0, 12.0)
SPOT_RING = (2, 6)
SPOT_HALO_DELTA_A = 4.0
SPOT_RING_DELTA_L = 4.0
#: A pustule's top is opaque cream to yellow: brighter than its ring by PUSTULE_RING_DELTA_L and
#: no bluer than it (b* step > PUSTULE_RING_DELTA_B); sheen and glints mix the illuminant's white
#: into the skin's colour and lose its yellow. Share of photos with at least one on
#: ../shared/real-dev, with (L step, b* step) = (4, +1) and the top's b* above 0.8 of the skin's,
#: as before: purulent acne 31%, AGEP 56%, healthy faces 0-10%; (6, -1): purulent acne 90%, AGEP
#: 67%, impetigo 91%, herpes 88% (vesicles with cream tops), rosacea 71% and acne 65% (they do
#: have pustules), frontal faces 0%, portraits 10% (no median above 0).
PUSTULE_RING_DELTA_L = 6.0
PUSTULE_RING_DELTA_B = -1.0
#: Vesicles: bright spots that are clear or white, not yellow (their top brighter than the ring
#: by VESICLE_RING_DELTA_L and less chromatic by -VESICLE_RING_DELTA_CHROMA) in a group of at
#: least VESICLE_MIN_GROUP such spots each within VESICLE_GROUP_DISTANCE px of another: herpes
#: simplex and zoster vesicles (1-3 mm) come grouped within about a centimetre, 150-250 px on a
#: close-up at the working size. Share of photos with at least one, on ../shared/real-dev with
#: (VESICLE_RING_DELTA_L, VESICLE_RING_DELTA_CHROMA) = (4, any): herpes simplex 95%, healthy
#: faces 0-7%, rosacea 82%, acne 53%; (10, -3): herpes simplex 78%, eczema herpeticum 57%, zoster
#: 21% (its vesicles are mostly crusted or haemorrhagic), impetigo 61%, rosacea 36%, acne 9%,
#: purulent acne 8%, healthy faces 0%; (12, -5): herpes 54%, rosacea 7%.
VESICLE_RING_DELTA_L = 10.0
VESICLE_RING_DELTA_CHROMA = -3.0
VESICLE_MIN_GROUP = 3
VESICLE_GROUP_DISTANCE = 40.0
#: Crust-like region: the hue of yellow / honey / golden-brown (CRUST_HUE_DEG), at least
#: CRUST_MIN_HUE_STEP more yellow than the person's skin, saturated (chroma at least
#: CRUST_MIN_CHROMA and CRUST_DELTA_CHROMA above the skin's), not black (L* >= CRUST_MIN_L),
#: in components of at least CRUST_MIN_AREA px, in the skin with its holes filled.
CRUST_HUE_DEG = (55.0, 90.0)
CRUST_MIN_HUE_STEP = 10.0
CRUST_MIN_CHROMA = 22.0
CRUST_DELTA_CHROMA = 5.0
CRUST_MIN_L = 20.0
CRUST_MIN_AREA = 100
#: ...and a plaque, not a strand: thickness 2 A / P (regions.thickness: a band's width, a disc's
#: radius) at least this (px). Blonde and light-brown hair falling over the forehead and temples
#: is honey-hued: on the 362 healthy faces of ../shared/real-dev, those with crusts >= 0.1% of the
#: skin fall from 14 to 7 (the 7 dropped are hair locks, 2-5 px wide); the impetigo close-ups keep
#: theirs (12 of 23), and on 1,000 generated photos the crusts found stay 22 of 28, with none on
#: the 972 without. A 100-px disc (CRUST_MIN_AREA) is ~6 px thick.
CRUST_MIN_THICKNESS = 6.0
#: Pinpoint bleeding: small (2..BLEED_MAX_AREA px) spots darker than the skin around them
#: (L_loc < BLEED_DELTA_L; pores reach -8..-10, generated blood -20..-33 on light skin) and
#: redder (a_loc > BLEED_DELTA_A), or much redder whatever their darkness (a_loc >
#: BLEED_STRONG_DELTA_A: blood on dark skin).
BLEED_DELTA_L = -12.0
BLEED_DELTA_A = 4.0
BLEED_STRONG_DELTA_A = 12.0
BLEED_MAX_AREA = 40
#: ... and, against the skin right around it (1-4 px outside, medians), darker by more than
#: -BLEED_RING_DELTA_L and redder by more than BLEED_RING_DELTA_A, or redder by more than
#: BLEED_RING_STRONG_DELTA_A. Pores, hairs and impulse noise pass the tests above on real faces
#: (../shared/real-dev: median 32 per photo, 1-4 px clusters only -3.5 L* and +1.9 a* from their
#: ring); generated blood is -33 L* / +8 a* from its ring on light skin and -10 / +12 on dark
#: skin. With these tests generated photos keep 99.6% of their spots, false ones on generated
#: photos fall from 0.66 to 0.07 per photo and on real-dev to a median of 1.
BLEED_RING_DELTA_L = -8.0
BLEED_RING_DELTA_A = 3.0
BLEED_RING_STRONG_DELTA_A = 8.0
#: Papule: round red bump (a* above its 12-px neighbourhood by this) of this area range (px):
#: radius 4-15 px.
PAPULE_AREA = (40, 700)
PAPULE_DELTA_A = 5.0
#: ... and darker than the skin PAPULE_RING px around it (medians) by more than this (L*): blood
#: darkens as it reddens. On ../shared/real-dev the red bumps found on healthy faces are mostly
#: warm highlights on the nose's flanks and a cheek's curve (L* minus their ring's: median -1.6,
#: quartiles -4.8..+0.5), those on the complication photos darker (median -5.1, 95th percentile
#: -0.2): at 1.0, healthy faces with a papule fall from 53 to 36 of 362 and the
#: complication groups keep theirs (acne 88 -> 86%, purulent acne 69 -> 67%, others within 1).
PAPULE_RING = (2, 6)
PAPULE_MIN_DARKENING = 1.0
#: Small red dots (track marks, needle points): a* above the neighbourhood by this, 3-60 px.
DOT_DELTA_A = 5.0
DOT_AREA = (3, 60)
#: ...peaking at least this far above the neighbourhood (generated track dots peak at +9..+15,
#: the noisy rim of a red patch at +5..+6) and no more elongated than this (bounding box).
DOT_PEAK_DELTA_A = 8.0
DOT_MAX_ASPECT = 2.5
#: Track marks: dots in threes with spacing in this range (px) and this angle tolerance.
TRACK_DOT_SPACING = (6.0, 40.0)
TRACK_ANGLE_TOL_DEG = 12.0
#: Bruise: darker (delta L* < -this) and bluer (delta b* < -BRUISE_DELTA_B) than the reference,
#: both scaled by L*_ref / 65 (the optical model gives a bruise delta L* -14 and delta b* -6 on
#: light skin, -7 and -4 on dark skin: the contrast shrinks with the skin's lightness).
BRUISE_DELTA_L = 6.0
BRUISE_DELTA_B = 2.5
BRUISE_MIN_AREA = 200
#: ...and holding more blood than the person's reference skin: its median colour's hemoglobin h
#: (chromophores.decompose, shading and exposure projected out; deoxygenated blood reads there
#: as h +0.5 per unit) above the reference pixels' median by BRUISE_MIN_DELTA_HEMOGLOBIN. A
#: shadow of the face's relief is only darker, a beard's shade browner. On ../shared/real-dev the
#: bruise-like regions found on the 362 healthy faces hold h +0.10 / +0.17 / +0.28 (P10 / median
#: / P90), those on the purpura close-ups +0.21 / +0.38 / +0.89: the limit clears 57 of the 89
#: healthy faces with one and 1 of the 40 purpura photos loses its bruise area.
BRUISE_MIN_DELTA_HEMOGLOBIN = 0.2
