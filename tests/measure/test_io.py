"""triage.measure.io: every format decodes upright at the working size; bad input gives one-line errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from triage.measure import config
from triage.measure.io import ImageError, decode, load_image, read_bytes, working_size


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def gradient_rgb(w=320, h=240) -> np.ndarray:
    """Known content: red rises left to right, green top to bottom, blue constant."""
    x = np.linspace(0, 255, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 255, h)[:, None].repeat(w, 1)
    return np.stack([x, y, np.full_like(x, 90)], -1).astype(np.uint8)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.abs(a.astype(float) - b.astype(float)).mean())


@pytest.mark.parametrize(
    "fmt,kw",
    [("JPEG", {"quality": 95}), ("PNG", {}), ("TIFF", {}), ("WEBP", {"lossless": True}), ("BMP", {}), ("HEIF", {"quality": 95})],
)
def test_every_format_decodes_to_the_working_size_with_its_content(fmt, kw):
    rgb = gradient_rgb()
    d = decode(encode(Image.fromarray(rgb), fmt, **kw))
    assert d.rgb.dtype == np.uint8 and d.rgb.shape == (768, 1024, 3)
    assert (d.width, d.height) == (320, 240)
    assert mean_abs_diff(d.rgb, rgb) < 4.0  # same picture (lossy formats within a few levels)


def test_png_16_bit_is_scaled_not_clipped():
    import cv2

    rgb16 = (gradient_rgb().astype(np.uint16) * 257)
    ok, buf = cv2.imencode(".png", rgb16[..., ::-1])
    d = decode(buf.tobytes())
    assert mean_abs_diff(d.rgb, gradient_rgb()) < 1.5


def test_grayscale_16_bit_png():
    g = (np.linspace(0, 65535, 320)[None, :].repeat(240, 0)).astype(np.uint16)
    d = decode(encode(Image.fromarray(g), "PNG"))
    row = d.rgb[384, :, 0].astype(int)
    assert row[0] < 5 and row[-1] > 250 and np.all(np.diff(row) >= -1)
    assert np.array_equal(d.rgb[..., 0], d.rgb[..., 1])


def test_palette_png_with_transparency_is_composited_over_white():
    rgba = np.zeros((240, 320, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 160:, 3] = 255  # right half opaque red, left half transparent
    im = Image.fromarray(rgba, "RGBA").convert("P", palette=Image.Palette.ADAPTIVE)
    im.info["transparency"] = 0
    pal = Image.fromarray(rgba, "RGBA").quantize(colors=4)
    d = decode(encode(pal, "PNG"))
    left, right = d.rgb[:, :400].reshape(-1, 3).mean(0), d.rgb[:, 624:].reshape(-1, 3).mean(0)
    assert left.min() > 240  # transparent -> white
    assert right[0] > 180 and right[1] < 30


def test_rgba_png_and_grayscale_and_cmyk_jpeg():
    rgb = gradient_rgb()
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    assert mean_abs_diff(decode(encode(Image.fromarray(rgba, "RGBA"), "PNG")).rgb, rgb) < 1.0
    gray = decode(encode(Image.fromarray(rgb).convert("L"), "JPEG", quality=95)).rgb
    assert np.abs(gray[..., 0].astype(int) - gray[..., 2]).max() <= 1
    cmyk = decode(encode(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95)).rgb
    assert mean_abs_diff(cmyk, rgb) < 6.0


def test_exif_orientation_applied_exactly_once():
    """A landscape photo whose EXIF says 'rotate 90 CW' (orientation 6) comes out portrait, with
    the pixel that was at the top-left now at the top-right."""
    rgb = np.zeros((240, 320, 3), np.uint8)
    rgb[:40, :40] = (255, 0, 0)
    exif = Image.Exif()
    exif[0x0112] = 6
    d = decode(encode(Image.fromarray(rgb), "JPEG", quality=95, exif=exif))
    assert d.rgb.shape[0] > d.rgb.shape[1]  # portrait
    assert (d.width, d.height) == (240, 320)
    h, w = d.rgb.shape[:2]
    assert d.rgb[10, w - 10, 0] > 200 and d.rgb[10, 10, 0] < 50


def test_large_jpeg_is_decoded_at_reduced_dct_scale(monkeypatch):
    """A 4032x3024 JPEG is decoded by libjpeg at 1/2 scale (2016x1512), not at full size."""
    from PIL import JpegImagePlugin

    sizes = []
    orig = JpegImagePlugin.JpegImageFile.load

    def spy(self):
        out = orig(self)
        sizes.append(self.size)
        return out

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    rgb = np.random.default_rng(0).integers(0, 255, (3024, 4032, 3), dtype=np.uint8)
    d = decode(encode(Image.fromarray(rgb), "JPEG", quality=80))
    assert sizes and sizes[0] == (2016, 1512)
    assert d.rgb.shape == (768, 1024, 3) and (d.width, d.height) == (4032, 3024)


def test_working_size_keeps_aspect():
    assert working_size(4032, 3024) == (1024, 768)
    assert working_size(3024, 4032) == (768, 1024)
    assert working_size(512, 512) == (1024, 1024)


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty"),
        (b"this is a text file, not a png\n", "not an image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "not an image"),
    ],
)
def test_bad_bytes_give_one_line_reasons(data, reason, tmp_path):
    p = tmp_path / "x.png"
    p.write_bytes(data)
    with pytest.raises(ImageError) as e:
        load_image(p)
    assert reason in str(e.value) and "\n" not in str(e.value)


def test_truncated_jpeg():
    data = encode(Image.fromarray(gradient_rgb()), "JPEG", quality=90)
    with pytest.raises(ImageError, match="truncated"):
        decode(data[: len(data) // 2])


def test_pixel_bomb_is_refused_from_the_header():
    """A 20000x20000 PNG (400 MP) is refused before its pixels are decoded."""
    im = Image.new("1", (20000, 20000))
    data = encode(im, "PNG", optimize=False)
    with pytest.raises(ImageError, match="pixel limit"):
        decode(data)


def test_opencv_pixel_limit_is_set():
    import os

    import triage.measure.io  # noqa: F401 - importing sets the limit before cv2 loads

    assert int(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"]) == config.MAX_IMAGE_PIXELS


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        read_bytes(tmp_path / "gone.jpg")


def test_unreadable_file_gives_permission_denied(tmp_path):
    """chmod 000 file read by an unprivileged process (as root, the read runs as 'nobody')."""
    import os

    from conftest import open_dir, run_unprivileged

    d = open_dir(tmp_path)
    p = d / "secret.jpg"
    p.write_bytes(encode(Image.fromarray(gradient_rgb()), "JPEG"))
    p.chmod(0)
    code = "\nfrom triage.measure.io import read_bytes, ImageError\ntry:\n    read_bytes(%r)\nexcept ImageError as e:\n    print(e)\n" % str(p)
    out = run_unprivileged(code)
    assert out.stdout.strip() == "permission denied", out.stderr
    assert os.stat(p).st_mode & 0o777 == 0


def _cut_points(data: bytes) -> list[int]:
    return [n for n in (3, 10, 30, 60, 100, 200, 400, len(data) // 2) if n < len(data)]


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "BMP", "PNG", "TIFF", "HEIF"])
def test_files_cut_anywhere_in_the_header_give_one_line_errors(fmt):
    """`head -c 100 photo.jpg` (issue 6): an ImageError with one line, never another exception."""
    data = encode(Image.fromarray(gradient_rgb()), fmt)
    for n in _cut_points(data):
        with pytest.raises(ImageError) as e:
            decode(data[:n])
        assert str(e.value) and "\n" not in str(e.value), (n, str(e.value))


def _exif_cut(rgb: np.ndarray) -> bytes:
    """A JPEG whose EXIF block says it holds more entries than it does (Pillow warns)."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Model X"
    raw = exif.tobytes()
    data = encode(Image.fromarray(rgb), "JPEG", quality=90, exif=raw)
    i = data.index(raw)
    broken = raw[:-12]  # the last entry's bytes are gone, the count still says 2
    seg_len = len(broken) + 2
    start = i - 4  # APP1 marker and length sit just before the EXIF bytes
    return data[:start] + b"\xff\xe1" + seg_len.to_bytes(2, "big") + broken + data[i + len(raw):]


def test_decoder_warnings_are_neither_raised_nor_printed(capfd):
    """Pillow's warnings about damaged metadata (issue 25) stay inside the decoder: the photo is
    decoded (or refused with one line), nothing is printed."""
    import warnings

    data = _exif_cut(gradient_rgb())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under pytest's filterwarnings = error
        d = decode(data)
    assert d.rgb.shape == (768, 1024, 3)
    assert capfd.readouterr().err == ""


def test_libtiff_messages_are_not_printed(capfd):
    """libtiff's own error and warning lines on a damaged strip (issue 25: noise on the
    terminal of a batch) are silenced; the reason is the ImageError."""
    data = bytearray(encode(Image.fromarray(gradient_rgb()), "TIFF", compression="tiff_deflate"))
    data[300] ^= 0x55  # inside the compressed strip
    with pytest.raises(ImageError, match="TIFF"):
        decode(bytes(data))
    assert capfd.readouterr().err == ""


def _claiming(data: bytes, width: int, height: int) -> bytes:
    from fuzz import jpeg_claiming

    return jpeg_claiming(data, width, height)


@pytest.mark.parametrize("eoi", [False, True])
def test_jpeg_whose_header_claims_more_than_its_data_holds(eoi):
    """A 200x200 JPEG's frame header rewritten to 10000x10000 (issue 25): 50 KB cannot hold
    1.5 million 8x8 blocks (Huffman coding spends at least a bit on each), so it is refused from
    the header instead of being decoded as a grey picture and triaged."""
    small = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)), "JPEG", quality=95)
    forged = _claiming(small, 10000, 10000)
    forged = forged + bytes(50_000 - len(forged)) if not eoi else forged[:-2] + bytes(50_000 - len(forged)) + b"\xff\xd9"
    with pytest.raises(ImageError, match="truncated or forged JPEG") as e:
        decode(forged)
    assert "10000x10000" in str(e.value) and "\n" not in str(e.value)


def test_real_large_jpeg_passes_the_data_check():
    """A flat 6000x4000 JPEG compresses to ~6 bits a block, far above the one-bit floor."""
    d = decode(encode(Image.new("RGB", (6000, 4000), (200, 150, 120)), "JPEG", quality=90))
    assert (d.width, d.height) == (6000, 4000)


def test_png_whose_header_claims_more_than_its_data_holds():
    """deflate cannot expand more than 1032-fold: 61 bytes of data cannot be a 9999x9999 image."""
    from fuzz import png_claiming

    with pytest.raises(ImageError, match="truncated or forged PNG"):
        decode(png_claiming(9999, 9999, colour=6, rows=1))


@pytest.mark.parametrize("fmt", ["GIF", "ICO", "PCX", "TGA"])
def test_formats_outside_the_supported_list_are_not_images(fmt):
    """Only the containers of config.DECODE_FORMATS are opened, whatever the file is named."""
    with pytest.raises(ImageError, match="not an image"):
        decode(encode(Image.fromarray(gradient_rgb(64, 48)), fmt))
    with pytest.raises(ImageError, match="not an image"):
        decode(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\nshowpage\n")


def test_pillow_log_lines_are_not_printed(tmp_path):
    """Pillow logs some refusals (a TIFF with 19109 samples per pixel) as errors, which Python
    prints on stderr when logging is not set up, as in `triage run`: the ImageError is the one
    line. (In a child process: pytest's own log capture would hide the line.)"""
    import struct
    import subprocess
    import sys

    data = bytearray(encode(Image.fromarray(gradient_rgb()), "TIFF"))
    entry = struct.pack("<HHI", 277, 3, 1)  # SamplesPerPixel, SHORT, one value
    i = bytes(data).index(entry)
    data[i + 8 : i + 10] = struct.pack("<H", 19109)
    (tmp_path / "x.tif").write_bytes(bytes(data))
    code = "import sys; from triage.measure.io import load_image, ImageError\ntry: load_image(sys.argv[1])\nexcept ImageError as e: print(e)"
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.tif")], capture_output=True, text=True)
    assert res.stdout.strip() and res.stderr == ""


def _read_in_child(path, timeout=30):
    """read_bytes(path) in a child with 4 GB of address space (an endless read fails fast
    there instead of eating the machine); returns its one line of output."""
    import resource
    import subprocess
    import sys

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    code = (
        "import sys\nfrom triage.measure.io import read_bytes, ImageError\n"
        "try:\n    print('read', len(read_bytes(sys.argv[1])))\nexcept ImageError as e:\n    print(e)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=timeout, preexec_fn=limit)
    return res.stdout.strip() or res.stderr.strip().splitlines()[-1]


def test_special_files_named_like_images_are_refused_without_reading(tmp_path):
    """A symlink to /dev/zero was read without end, a FIFO hung the run (issue 3): only regular
    files are read, a FIFO is opened without blocking."""
    import os

    os.symlink("/dev/zero", tmp_path / "zero.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    assert _read_in_child(tmp_path / "zero.jpg") == "not a regular file (character device)"
    assert _read_in_child(tmp_path / "pipe.jpg", timeout=20) == "not a regular file (FIFO (named pipe))"
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(ImageError, match="is a directory"):
        read_bytes(tmp_path / "folder.jpg")


def test_files_above_the_size_cap_are_refused_from_their_size(tmp_path):
    p = tmp_path / "huge.jpg"
    with open(p, "wb") as f:
        f.truncate(config.MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(ImageError, match="file too large") as e:
        read_bytes(p)
    assert "MiB" in str(e.value) and "\n" not in str(e.value)
    (tmp_path / "ok.jpg").write_bytes(b"x" * 10)
    assert read_bytes(tmp_path / "ok.jpg") == b"x" * 10
