"""Decoding untrusted still images: the format by magic bytes, bounded size, EXIF orientation honoured.

Pillow does the decoding: it reads the header (and so the pixel count) without allocating the raster,
reports truncation when forced to load, and knows EXIF orientation. OpenCV's imdecode does none of these.
The error carries the HTTP status the API answers with, so every entry point says the same thing about
the same bad file: 413 too many bytes, 415 not JPEG/PNG (strict mode), 422 empty, undecodable, truncated
or too many pixels.

Robustness choices (``tests/unit/test_api.py`` and the Hypothesis fuzz test in
``tests/unit/test_imageio_fuzz.py`` hold them):

* Everything Pillow raises while parsing or converting untrusted bytes becomes ``ImageError(422)``:
  a malformed file can make a decoder raise almost anything (``struct.error``, ``IndexError``,
  ``ZeroDivisionError``...), and "undecodable" is the only honest answer for all of them. A bug in our own
  code after decoding is not caught here.
* Strict mode restricts Pillow to its JPEG and PNG plugins (``formats=``), so a file whose first bytes
  say JPEG can never reach another decoder.
* Decompression bombs: our ``MAX_PIXELS`` is checked right after the header is parsed, before the raster
  is allocated. Pillow's own guard raises above 2 x ``Image.MAX_IMAGE_PIXELS`` (caught: 422) and only
  *warns* between 1x and 2x; we do not touch the warning filters to silence that (``catch_warnings`` is
  not thread-safe before Python 3.14 and the API decodes in a thread pool), our lower limit rejects
  those images anyway.
* Malformed EXIF never rejects an image whose pixels decode: the orientation is then ignored.
* ``ImageFile.LOAD_TRUNCATED_IMAGES`` is a process-wide Pillow switch; if some other code sets it,
  truncated files decode as grey-padded images instead of failing. Nothing in this project sets it.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
#: 40 MP: a 4K frame is 8.3 MP and the largest still cameras ~ 24 MP; beyond this is a bomb, not a photo.
MAX_PIXELS = 40_000_000

_MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}
_STRICT_FORMATS = ("JPEG", "PNG")


class ImageError(ValueError):
    """An image we will not analyse; ``status`` is the HTTP status that describes why."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Decoded:
    image: np.ndarray  # BGR uint8, (H, W, 3), H and W >= 1
    format: str  # "jpeg" | "png" | other Pillow format name in lenient mode


def sniff(data: bytes) -> str | None:
    """'jpeg' or 'png' from the first bytes, whatever the file is called; None otherwise."""
    for magic, name in _MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def decode(data: bytes, *, strict: bool = True, max_bytes: int | None = MAX_BYTES) -> Decoded:
    """Decode an image held in memory; raises only `ImageError` for bad input.

    ``strict`` accepts only JPEG and PNG (the API contract); the eval and analyze commands pass
    ``strict=False`` to read anything Pillow can (BMP, TIFF, WebP...) from local files.
    """
    if not data:
        raise ImageError("empty file", 422)
    if max_bytes is not None and len(data) > max_bytes:
        raise ImageError(f"image is {len(data)} bytes, the limit is {max_bytes}", 413)
    kind = sniff(data)
    if kind is None and strict:
        raise ImageError("not a JPEG or PNG image (checked by content, not by name)", 415)
    try:
        img: Image.Image = Image.open(io.BytesIO(data), formats=_STRICT_FORMATS if strict else None)
        w, h = img.size
        if w < 1 or h < 1:
            raise ImageError(f"image is {w}x{h} pixels", 422)
        if w * h > MAX_PIXELS:
            raise ImageError(f"image is {w}x{h} pixels, the limit is {MAX_PIXELS} pixels", 422)
        img.load()  # forces a full decode: truncated files fail here, not later
        fmt = (img.format or kind or "unknown").lower()
        img = _upright(img)
        if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            arr = np.asarray(img, dtype=np.float32)
            peak = float(arr.max()) if arr.size else 0.0
            img = Image.fromarray((np.clip(arr, 0, None) * (255.0 / max(peak, 1.0))).astype(np.uint8))
        rgb = np.asarray(img.convert("RGB"))
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"image has too many pixels: {e}", 422) from e
    except MemoryError as e:
        raise ImageError("image too large to decode in memory", 422) from e
    except UnidentifiedImageError as e:  # its own message names a BytesIO object, nothing a user can use
        raise ImageError(_unidentified(kind), 422) from e
    except Exception as e:  # untrusted bytes: whatever the decoder raises means "undecodable"
        raise ImageError(f"cannot decode image: {type(e).__name__}: {e}", 422) from e
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        raise ImageError("image has no pixels", 422)
    return Decoded(np.ascontiguousarray(rgb[:, :, ::-1]), "jpeg" if fmt == "mpo" else fmt)


def _unidentified(kind: str | None) -> str:
    """Why Pillow recognised no image: a JPEG/PNG signature with nothing decodable behind it, or no
    image format it reads at all (lenient mode; strict mode refuses those as 415 before decoding)."""
    if kind is not None:
        return f"cannot decode image: it starts like a {kind.upper()} but holds no readable image"
    return "cannot decode image: not an image format that can be read (JPEG, PNG, BMP, TIFF, WebP, ...)"


def _upright(img: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation says; unchanged when the EXIF block is unreadable."""
    try:
        turned = ImageOps.exif_transpose(img)
    except Exception as e:  # malformed EXIF: keep the pixels, lose the orientation
        log.debug("ignoring unreadable EXIF orientation: %s", e)
        return img
    return img if turned is None else turned


def read_image(path: Path, *, strict: bool = True, max_bytes: int | None = MAX_BYTES) -> Decoded:
    """Decode a file; unreadable files raise ImageError (status 422) like undecodable ones."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror or e}", 422) from e
    return decode(data, strict=strict, max_bytes=max_bytes)
