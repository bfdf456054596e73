"""Image files for robustness tests, generated in the test (nothing binary is committed).

Every function returns the file's bytes; the tests write them under names that lie about the format
where that is the point (a PNG called .jpg).
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def jpeg_bytes(
    width: int = 320, height: int = 240, quality: int = 90, seed: int = 0, exif: bytes = b""
) -> bytes:
    """A smooth-ish colour JPEG (gradient plus a little noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width, 1), y * 255 // max(height, 1), (x + y) % 256], -1)
    arr = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def png_bytes(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "PNG")
    return out.getvalue()


def pillow_bytes(fmt: str, width: int = 64, height: int = 48) -> bytes:
    """A small image in any format Pillow writes (TIFF, GIF, BMP, WEBP...)."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def noise_jpeg(min_bytes: int, seed: int = 1) -> bytes:
    """A JPEG of random noise at quality 100, grown until it is at least ``min_bytes`` long."""
    rng = np.random.default_rng(seed)
    side = max(64, int((min_bytes / 2.2) ** 0.5))  # noise at q100 costs ~2.5 bytes per pixel
    while True:
        arr = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        out = io.BytesIO()
        Image.fromarray(arr).save(out, "JPEG", quality=100, subsampling=0)
        if out.tell() >= min_bytes:
            return out.getvalue()
        side = int(side * 1.2)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid 1-bit greyscale PNG of ``width`` x ``height`` zeros, written by hand.

    900 megapixels in ~110 KB: the raster is never built, each row (filter byte + width/8 bytes) is fed to
    one zlib stream in batches, so making it costs ~0.2 s and little memory.
    """
    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    parts = []
    batch = row * 1000
    for start in range(0, height, 1000):
        parts.append(comp.compress(batch if start + 1000 <= height else row * (height - start)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
    )


def exif_orientation(value: int) -> bytes:
    """An EXIF block carrying only an Orientation tag (1..8)."""
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()
