"""Decoding uploads: every odd or hostile file gives a clear error or a usable array."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mnist_app.reading.preprocess import preprocess
from mnist_app.reading.uploads import ImageDecodeError, decode_image
from tools.inputs.synthetic_drawings import render


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def paper_digit(digit: int = 3) -> Image.Image:
    """A dark digit on white paper, as an RGB image."""
    return Image.fromarray(255 - render(digit, pen=18)[:, :, 0]).convert("RGB")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a huge size: a decompression bomb's header."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("digit.txt", "7")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"just some text, not a picture\n", "not an image"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", "not an image"),
        (zip_bytes(), "not an image"),
        (encode(paper_digit(), "PNG")[:300], "damaged or truncated"),
        (encode(paper_digit(), "JPEG")[:400], "damaged or truncated"),
        (png_header_only(20000, 20000), "limit is"),  # beyond Pillow's own bomb limit
        (png_header_only(7000, 7000), "7000x7000 pixels; the limit is"),  # beyond ours
    ],
)
def test_bad_files_get_a_clear_message(data, message):
    with pytest.raises(ImageDecodeError, match=message):
        decode_image(data)


def test_files_over_the_size_limit_are_refused():
    with pytest.raises(ImageDecodeError, match="MB"):
        decode_image(b"\x89PNG" + b"\0" * 100, max_bytes=50)


@pytest.mark.parametrize(
    "make",
    [
        lambda img: encode(img, "PNG"),
        lambda img: encode(img, "JPEG", quality=80),
        lambda img: encode(img, "WEBP"),
        lambda img: encode(img, "BMP"),
        lambda img: encode(img.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG"),
        lambda img: encode(img.convert("CMYK"), "JPEG"),
        lambda img: encode(img.convert("L"), "PNG"),
        lambda img: encode(img.convert("1"), "PNG"),
        lambda img: encode(Image.fromarray(np.asarray(img.convert("L"), np.uint16) * 257), "PNG"),  # 16-bit
        lambda img: encode(img.convert("LA"), "PNG"),
    ],
    ids=["png", "jpeg", "webp", "bmp", "palette", "cmyk", "grey", "1-bit", "16-bit", "grey+alpha"],
)
def test_formats_and_modes_all_read_the_same_digit(make, shipped):
    image = decode_image(make(paper_digit(3)))
    assert shipped["cnn"].predict(preprocess(image)).digit == 3


def test_animated_gif_uses_the_first_frame(shipped):
    frames = [paper_digit(7).convert("P"), paper_digit(2).convert("P")]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert shipped["cnn"].predict(preprocess(decode_image(data))).digit == 7


def test_exif_rotation_is_applied():
    upright = paper_digit(7)
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # as a phone stores a turned photo
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    decoded = decode_image(encode(stored, "JPEG", exif=exif.tobytes(), quality=95))
    assert decoded.shape[:2] == (upright.height, upright.width)
    difference = np.abs(decoded.astype(int) - np.asarray(upright, int)).mean()
    assert difference < 3


def test_fully_transparent_png_has_no_ink():
    data = encode(Image.new("RGBA", (64, 64), (0, 0, 0, 0)), "PNG")
    assert preprocess(decode_image(data)) is None


def test_transparent_png_with_dark_ink(shipped):
    ink = render(5, pen=16)[:, :, 0]
    rgba = np.dstack([np.zeros_like(ink)] * 3 + [ink])  # black pen, transparent background
    image = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert shipped["cnn"].predict(preprocess(image)).digit == 5


@settings(max_examples=200, deadline=3000)
@given(st.binary(max_size=2048))
def test_random_bytes_never_crash(data):
    try:
        image = decode_image(data)
    except ImageDecodeError:
        return
    preprocess(image)  # whatever decodes must also preprocess without an undocumented error


@settings(max_examples=60, deadline=3000)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=64))
def test_corrupted_png_bytes_never_crash(position, noise):
    data = bytearray(encode(paper_digit(4), "PNG"))
    data[position : position + len(noise)] = noise
    try:
        image = decode_image(bytes(data))
    except ImageDecodeError:
        return
    preprocess(image)


def test_preview_is_small_and_displayable():
    from mnist_app.reading.uploads import preview

    big = paper_digit(1).resize((2000, 1500))
    sixteen = Image.fromarray(np.asarray(paper_digit(1).convert("L"), np.uint16) * 257)
    for data in (encode(big, "JPEG"), encode(sixteen, "PNG"), encode(paper_digit(1).convert("CMYK"), "JPEG")):
        shown = preview(data)
        assert max(shown.size) <= 480 and shown.mode in ("L", "RGB", "RGBA")
        assert np.asarray(shown).std() > 10  # not washed out
