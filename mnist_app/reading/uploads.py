"""Decode uploaded image files safely into arrays for `preprocess` (in memory, never to disk)."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mnist_app.config import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS

SUPPORTED = "PNG, JPEG, WebP, BMP or GIF"


class ImageDecodeError(ValueError):
    """The file is not an image we can read; the message says why in plain words."""


def decode_image(data: bytes, max_pixels: int = MAX_UPLOAD_PIXELS, max_bytes: int = MAX_UPLOAD_BYTES) -> np.ndarray:
    """An uploaded file's bytes as a uint8/uint16 greyscale, RGB or RGBA array, upright per EXIF."""
    if not data:
        raise ImageDecodeError("the file is empty")
    if len(data) > max_bytes:
        raise ImageDecodeError(f"the file is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            # The header gives the size before any pixel is decoded: refuse decompression bombs here.
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"the image is {width}x{height} pixels; the limit is {max_pixels / 1e6:.0f} million pixels"
                )
            image.seek(0)  # animated GIF/WebP: the first frame
            image.load()
            image = ImageOps.exif_transpose(image)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageDecodeError(
            f"the image has too many pixels; the limit is {max_pixels / 1e6:.0f} million pixels"
        ) from error
    except UnidentifiedImageError as error:
        raise ImageDecodeError(f"this is not an image we can read ({SUPPORTED} expected)") from error
    except (OSError, ValueError, SyntaxError, EOFError) as error:  # truncated or damaged files
        raise ImageDecodeError(f"the image file is damaged or truncated ({error})") from error
    return _to_array(image)


def _to_array(image: Image.Image) -> np.ndarray:
    """Pixels in a layout `preprocess` understands, keeping transparency and 16-bit depth."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(image, dtype=np.uint16)
    if mode == "I":  # 32-bit integers: 16-bit PNGs often decode to this
        return np.clip(np.asarray(image, dtype=np.int64), 0, 65535).astype(np.uint16)
    if mode == "F":
        pixels = np.asarray(image, dtype=np.float32)
        top = float(np.nanmax(pixels)) if pixels.size else 0.0
        return (pixels / top if top > 1 else pixels).astype(np.float32)
    if mode in ("L", "RGB", "RGBA", "LA"):
        return np.asarray(image)
    if mode == "1":
        return np.asarray(image.convert("L"))
    has_alpha = mode in ("PA", "RGBa", "La") or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def preview(data: bytes, side: int = 480) -> Image.Image:
    """A small, upright copy of an image that `decode_image` accepted, for display."""
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    image.thumbnail((side, side))
    image = ImageOps.exif_transpose(image)
    if image.mode in ("L", "RGB", "RGBA"):
        return image
    if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit: scale to 8 bits for display
        pixels = _to_array(image).astype(np.float32)
        top = max(float(pixels.max()), 1e-6)
        return Image.fromarray((pixels / top * 255).astype(np.uint8))
    return image.convert("RGBA")
