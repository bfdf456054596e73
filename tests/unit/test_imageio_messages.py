"""What `edge.imageio.decode` tells a user about a file it will not analyse: the status and a message a
person can act on (never a Python object's repr, which Pillow's own "cannot identify" message holds)."""

from __future__ import annotations

import pytest

from edge.imageio import MAX_BYTES, ImageError, decode
from tests.support.images import jpeg_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("data", "strict", "status", "says"),
    [
        (b"", True, 422, "empty file"),
        (b"plain text, not a picture", True, 415, "not a JPEG or PNG"),
        (b"plain text, not a picture", False, 422, "not an image format that can be read"),
        (b"\xff\xd8\xff" + b"x" * 64, True, 422, "starts like a JPEG but holds no readable image"),
        (b"\xff\xd8\xff" + b"x" * 64, False, 422, "starts like a JPEG but holds no readable image"),
        (PNG_MAGIC + b"x" * 64, True, 422, "cannot decode image"),
        (b"x" * (MAX_BYTES + 1), True, 413, f"the limit is {MAX_BYTES}"),
    ],
)
def test_refusals_say_why(data: bytes, strict: bool, status: int, says: str) -> None:
    with pytest.raises(ImageError) as caught:
        decode(data, strict=strict)
    assert caught.value.status == status
    assert says in caught.value.message
    assert "object at 0x" not in caught.value.message


def test_a_good_jpeg_still_decodes() -> None:
    decoded = decode(jpeg_bytes())
    assert decoded.format == "jpeg" and decoded.image.ndim == 3
