"""A gate camera's video codec: an image as it comes out of an H.264 stream.

The gate daemon reads RTSP streams, and nearly every IP camera sends H.264 (or H.265, which fails the
same way): a 4 x 4 / 8 x 8 integer transform, an in-loop deblocking filter that smears what the
quantizer left, and, in all but the key frames, a picture predicted from the previous one, moved by
the car's motion, plus a coarse residual. Its artefacts are not JPEG's: less ringing, more smearing of
thin strokes, and blocks copied from where the plate was a frame earlier. The synthesizer's codec was
JPEG alone; on the first 400 test plates, re-encoded on top of what they were drawn with, reader v11
lost more to H.264 than to JPEG at the same PSNR (HISTORY, "Video codec").

`h264` encodes one picture with libx264 (PyAV's own build, so no system codec is needed) at a fixed
quantizer and decodes it again. With ``motion`` it first encodes the picture moved back by that many
pixels (the car a frame earlier) and returns the second, predicted picture: a P-frame, what a camera
sends between key frames. `hevc` does the same through H.265 (libx265), for the probes.

Trade-offs: a codec context is opened per picture (about 5 ms for a plate crop; an encoder kept open
would carry rate control and references from one unrelated plate to the next). One encoder thread, so
that a seeded draw gives the same pixels on any machine with the same libx264.
"""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np

#: The quantizer range drawn for training (`draw_h264`): 22 is a generous bit rate, 42 a congested
#: uplink's; gate cameras at 2-4 Mbit/s for 1080p send the moving car at about 28-38.
QP_RANGE = (22, 42)
#: Share of `draw_h264` pictures that are key frames (intra only); the rest are predicted.
KEY_FRAME_SHARE = 0.25


def h264(image: np.ndarray, qp: int, motion: tuple[float, float] | None = None) -> np.ndarray:
    """``image`` (BGR uint8, any size) through H.264 at quantizer ``qp`` (0-51), same shape back.

    ``motion``: (dx, dy) in pixels the picture moved since the previous frame; when given, that frame is
    encoded first and the returned picture is predicted from it (a P-frame). Odd sizes are padded by
    repeating the edge (4:2:0 needs even ones) and cut back.
    """
    return _round_trip(image, qp, motion, "libx264", "h264")


def hevc(image: np.ndarray, qp: int, motion: tuple[float, float] | None = None) -> np.ndarray:
    """`h264`, through H.265 (libx265), which newer cameras send: larger blocks and a second loop filter
    (sample-adaptive offset), so it smooths more than H.264 at the same quantizer. Probes only for now:
    its encoder takes about 50 ms to open, ten times libx264's."""
    return _round_trip(image, qp, motion, "libx265", "hevc")


def _round_trip(
    image: np.ndarray, qp: int, motion: tuple[float, float] | None, encoder_name: str, decoder_name: str
) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"a video codec needs a BGR uint8 image, got {image.dtype} {image.shape}")
    if not 0 <= qp <= 51:
        raise ValueError(f"qp {qp} is outside the codec's 0-51")
    h, w = image.shape[:2]
    padded = cv2.copyMakeBorder(image, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    pictures = [padded]
    if motion is not None:
        back = np.float32([[1, 0, -motion[0]], [0, 1, -motion[1]]])
        size = (padded.shape[1], padded.shape[0])
        pictures.insert(0, cv2.warpAffine(padded, back, size, borderMode=cv2.BORDER_REPLICATE))
    encoder = av.CodecContext.create(encoder_name, "w")
    encoder.width, encoder.height, encoder.pix_fmt = padded.shape[1], padded.shape[0], "yuv420p"
    encoder.time_base = Fraction(1, 25)
    if encoder_name == "libx265":
        params = f"qp={qp}:bframes=0:pools=1:frame-threads=1:log-level=none"
        encoder.options = {"preset": "veryfast", "tune": "zerolatency", "x265-params": params}
    else:
        encoder.options = {
            "qp": str(qp), "preset": "veryfast", "tune": "zerolatency", "bframes": "0", "threads": "1"
        }  # fmt: skip
    packets = []
    for pts, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts = pts
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    decoder = av.CodecContext.create(decoder_name, "r")
    decoded = [f for p in packets for f in decoder.decode(p)]
    decoded.extend(decoder.decode(None))
    if len(decoded) != len(pictures):
        raise RuntimeError(f"{encoder_name} gave back {len(decoded)} pictures of {len(pictures)}")
    return np.ascontiguousarray(decoded[-1].to_ndarray(format="bgr24")[:h, :w])


def draw_h264(image: np.ndarray, rng: np.random.Generator, char_h: float) -> np.ndarray:
    """``image`` through H.264 with a quantizer from `QP_RANGE`, a key frame in `KEY_FRAME_SHARE` of
    draws, else predicted across a motion of up to a fifth of a character height (a car at walking
    pace, 25 frames a second)."""
    qp = int(rng.integers(QP_RANGE[0], QP_RANGE[1] + 1))
    if rng.random() < KEY_FRAME_SHARE:
        return h264(image, qp)
    dx, dy = rng.normal(0.0, char_h * 0.1), rng.normal(0.0, char_h * 0.05)
    return h264(image, qp, (float(dx), float(dy)))
