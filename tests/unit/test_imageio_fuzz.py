"""Fuzzing `edge.imageio.decode`: whatever the bytes, it returns a BGR image or raises `ImageError`.

Inputs mix raw random bytes with valid small JPEG and PNG files (baseline, progressive, grey, palette,
16-bit, with EXIF) mutated by byte flips, overwrites of header fields with extreme values, truncation,
insertion and splicing, so most examples get past the magic-byte check into Pillow's parsers.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from edge.imageio import ImageError, decode
from tests.support import images


def _seeds() -> list[bytes]:
    def save(img: Image.Image, fmt: str, **kw: object) -> bytes:
        out = io.BytesIO()
        img.save(out, fmt, **kw)
        return out.getvalue()

    rgb = Image.fromarray(np.random.default_rng(3).integers(0, 255, (24, 32, 3), dtype=np.uint8))
    return [
        images.jpeg_bytes(32, 24),
        images.jpeg_bytes(16, 16, exif=images.exif_orientation(8)),
        save(rgb, "JPEG", progressive=True, quality=70),
        save(rgb.convert("L"), "JPEG"),
        save(rgb.convert("CMYK"), "JPEG"),
        images.png_bytes(16, 12),
        save(rgb.convert("P"), "PNG"),
        save(rgb.convert("LA"), "PNG"),
        save(Image.fromarray(np.arange(64 * 8, dtype=np.uint16).reshape(8, 64) * 100), "PNG"),
        save(rgb.convert("1"), "PNG"),
        images.png_bomb(64, 64),
    ]


SEEDS = _seeds()
EXTREMES = [b"\x00\x00", b"\xff\xff", b"\x7f\xff", b"\x00\x01", b"\x80\x00", b"\xff\xd9", b"\xff\xda"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "extreme", "truncate", "insert", "delete", "splice", "chunk"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "extreme":
            data[pos : pos + 2] = draw(st.sampled_from(EXTREMES))
        elif op == "truncate":
            del data[max(3, pos) :]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=32))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "splice":
            other = draw(st.sampled_from(SEEDS))
            data[pos:] = other[draw(st.integers(0, len(other) - 1)) :]
        elif op == "chunk":  # a PNG chunk with a lying length, or a JPEG segment with one
            data[pos:pos] = struct.pack(">I", draw(st.integers(0, 2**32 - 1))) + b"IDAT"
    return bytes(data)


inputs = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff" + b),
    st.binary(max_size=512).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    mutated(),
)


@pytest.mark.timeout(600)
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=inputs, strict=st.booleans())
def test_decode_returns_an_image_or_raises_image_error(data: bytes, strict: bool) -> None:
    try:
        decoded = decode(data, strict=strict)
    except ImageError as e:
        event(f"ImageError {e.status}")  # the mix shows with --hypothesis-show-statistics
        assert e.status in (413, 415, 422)
        assert str(e)
        return
    event(f"decoded {decoded.format}")
    image = decoded.image
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[0] >= 1 and image.shape[1] >= 1 and image.flags.c_contiguous
    if strict:
        assert decoded.format in ("jpeg", "png")
