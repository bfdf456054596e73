"""The site configuration schema: pydantic models for the YAML (loaded by `edge.config.load_config`).

Every model forbids unknown keys: a misspelt key silently falling back to its default (say `detct_fps`) is
worse at a gate than refusing to start. Models are frozen because the config is read once and shared by
threads. Relative file paths resolve against the YAML file's directory (passed as validation context
`base_dir`), so a site folder can be moved whole; without that context they stay relative to the cwd.

The Field descriptions are the reference for each key; config/site.example.yaml repeats them as comments.
Existence of referenced files is NOT checked here (example configs name files that only exist on the gate
box): `edge.config.validate_files` does that.
"""

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from edge.config_mqtt import MqttConfig, TlsConfig
from edge.config_types import Backoff, ConfigPath, Slug, StrictModel, Unit, check_slug, resolve_path

# One definition of the device names and the bundled models folder, shared with the model loader
# (edge.runtime imports onnxruntime lazily, so this stays cheap for check-config).
from edge.runtime import DEFAULT_MODELS_DIR, Device, Precision

__all__ = [
    "WHOLE_FRAME",
    "Backoff",
    "CameraConfig",
    "Config",
    "HttpConfig",
    "ListsConfig",
    "LoggingConfig",
    "MotionConfig",
    "MqttConfig",
    "PlateListConfig",
    "RecognitionConfig",
    "StorageConfig",
    "TlsConfig",
]

WHOLE_FRAME: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
_STREAM_SCHEMES = ("rtsp", "rtsps")


class MotionConfig(StrictModel):
    """Motion gate: skip detection while nothing moves inside the ROI, to save CPU on idle gates."""

    enabled: bool = Field(default=True, description="Run detection only on frames with motion in the ROI.")
    threshold: int = Field(
        default=25, ge=1, le=255, description="Grey-level change (0-255) that counts as motion."
    )
    min_area_fraction: float = Field(
        default=0.01, gt=0, le=1, description="Fraction of the ROI that must change to count as motion."
    )


class CameraConfig(StrictModel):
    """One camera (one RTSP stream) watching one lane."""

    id: Slug = Field(description="Camera id; names MQTT topics (`<prefix>/<id>/events`) and snapshot dirs.")
    url: str = Field(
        min_length=1,
        description="rtsp:// or rtsps:// stream URL, or a video file path (testing, commissioning).",
    )
    direction: Literal["entry", "exit"] | None = Field(
        default=None,
        description="Lane direction copied into events: entry, exit, or null when mixed/unknown.",
    )
    roi: tuple[tuple[Unit, Unit], ...] = Field(
        default=WHOLE_FRAME,
        description="Region of interest: polygon of [x, y] points, normalised 0..1 (0,0 = top left).",
    )
    detect_fps: float = Field(
        default=10.0,
        gt=0,
        le=30,
        description="Frames per second sent to the detector (the rest are dropped).",
    )
    min_plate_height_px: int = Field(
        default=20,
        ge=8,
        le=2000,
        description="Ignore plates shorter than this in frame pixels (too far to read).",
    )
    transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="RTSP transport; tcp avoids smeared frames from lost UDP packets."
    )
    open_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Give up opening the stream after this."
    )
    read_timeout_s: float = Field(
        default=5.0, gt=0, le=300, description="Watchdog: reconnect when no new frame arrived for this long."
    )
    reconnect: Backoff = Field(default=Backoff(), description="Backoff between stream reconnect attempts.")
    idle_keyframes_only: bool = Field(
        default=False,
        description="While the lane is idle decode only keyframes: saves most decoding CPU (more cameras "
        "per box) but notices an arriving car up to two keyframe intervals later.",
    )
    pace: Literal["realtime", "fast"] = Field(
        default="realtime",
        description="Video files only: play at the file's frame rate (realtime, like a camera) or as fast "
        "as recognition keeps up (fast: testing, batch runs).",
    )
    approaching_is: Literal["entry", "exit"] | None = Field(
        default=None,
        description="With direction null: the direction of a vehicle driving towards the camera (the "
        "other way is the opposite); null leaves direction null.",
    )
    motion: MotionConfig = Field(default=MotionConfig(), description="Motion gate settings.")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        # Never echo the URL in messages: RTSP URLs usually carry the camera password.
        parts = urlsplit(value)
        if parts.scheme in _STREAM_SCHEMES:
            if not parts.hostname:
                raise ValueError("the RTSP URL has no host")
            return value
        if "://" in value:
            raise ValueError(f"unsupported URL scheme '{parts.scheme}': use rtsp://, rtsps:// or a file path")
        return str(resolve_path(Path(value), info))

    @field_validator("roi")
    @classmethod
    def _roi_area(cls, roi: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
        # Counted here rather than with min_length, which would also fire (confusingly) when a point is bad.
        if len(roi) < 3:
            raise ValueError(f"the ROI polygon needs at least 3 points, got {len(roi)}")
        # Shoelace area: a polygon of collinear or repeated points would silently match nothing.
        twice_area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(roi, roi[1:] + roi[:1], strict=True))
        if abs(twice_area) / 2 < 1e-4:
            raise ValueError("the ROI polygon encloses no area (points collinear or repeated?)")
        return roi

    @property
    def is_stream(self) -> bool:
        """True for an RTSP stream, False for a video file."""
        return urlsplit(self.url).scheme in _STREAM_SCHEMES

    @property
    def redacted_url(self) -> str:
        """The URL with any password replaced by `***`, for logs and status pages."""
        parts = urlsplit(self.url)
        if parts.password is None:
            return self.url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()


class RecognitionConfig(StrictModel):
    """Detector, reader and the thresholds that turn per-frame reads into events."""

    detector: Literal["own", "text"] = Field(
        default="text",
        description="text (default): the PP-OCR scene-text detector (trained on real photos) with candidates "
        "confirmed by the reader and the plate grammar, ~100 ms per 1080p frame on 2 cores; own: the "
        "project's plate detector (models/detector.onnx, box + corners per plate, ~7 ms per 1080p frame), "
        "better on synthetic scenes but trained only on them: prefer it where live video needs the speed "
        "once it is checked on the site's camera (plate-edge eval --task detect).",
    )
    device: Device = Field(
        default="auto",
        description="ONNX Runtime device; auto uses CUDA when the GPU build and a GPU are present.",
    )
    reader_precision: Precision = Field(
        default="float",
        description="Which copy of the reader runs: float (the reference) or int8, its convolutions "
        "quantized for CPUs: 1.5 to 1.8 times faster per text line and as many plates right on the seeded "
        "synthetic sets, but a few more sure misreads there (34 against 31 in 10,500 plates); for a box "
        "that needs the speed (the own detector, many cameras). int8 is refused when models_dir has no "
        "int8 copy made from its reader.",
    )
    models_dir: ConfigPath = Field(default=DEFAULT_MODELS_DIR, description="Folder with the ONNX models.")
    min_detection_confidence: float = Field(
        default=0.5, ge=0, le=1, description="Plate boxes below this detector score are dropped."
    )
    min_read_confidence: float = Field(
        default=0.8, ge=0, le=1, description="Fused reads below this confidence publish no plate.read."
    )
    reread_below: float = Field(
        default=0.95,  # = edge.reread.REREAD_BELOW (kept literal: --help must not import OpenCV)
        ge=0,
        le=1,
        description="A plate read at a raw confidence below this is read again through six slightly "
        "different framings and the surest grammatical read kept (edge.reread): +0.4 points exact on the "
        "synthetic sets for about 10 ms more on the ~7 % of plates it touches. A sure read that is no "
        "grammatical plate is read again too, and a plate read in the 2-digit form gets one look further "
        "left for a first digit its quad cut off (about 2 ms). 0 turns all of it off; the bundled "
        "calibration was fitted with the default.",
    )
    confirm_frames: int = Field(
        default=3,
        ge=1,
        le=30,
        description="Agreeing frames needed before plate.read; more = surer but later. A track that "
        "ends sooner with two agreeing confident frames gets its plate.read then (late, not lost).",
    )
    read_on_stop: bool = Field(
        default=True,
        description="A car stopped at the barrier gets its plate.read after one confident read instead of "
        "confirm_frames: it is not going to offer sharper frames, and the barrier is waiting.",
    )
    best_k: int = Field(
        default=5, ge=1, le=50, description="Sharpest crops kept per vehicle to fuse the read."
    )
    dedup_window_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Same plate on the same camera within this window: no new event.",
    )
    track_lost_s: float = Field(
        default=2.0, gt=0, le=60, description="A vehicle unseen for this long has left (vehicle.left)."
    )


class PlateListConfig(StrictModel):
    """A plate list: a text file, one plate per line, `#` starts a comment."""

    file: ConfigPath = Field(description="The list file (UTF-8).")
    max_distance: float = Field(
        default=0,
        ge=0,
        le=3,
        description="Edit distance still counted as a match: 1 per edit, 0.5 for a look-alike substitution "
        "(바/배, 0/8, 1/7...); above 0 tolerates misreads but also lets near-identical foreign plates "
        "match (risky for allow lists).",
    )


class ListsConfig(StrictModel):
    """Allow/deny lists; a matched event carries `list: {name, matched, distance}`."""

    allow: PlateListConfig | None = Field(default=None, description="Plates allowed through (barrier opens).")
    deny: PlateListConfig | None = Field(default=None, description="Plates refused or flagged.")


class StorageConfig(StrictModel):
    """Local state: the outbox database and plate snapshots."""

    state_dir: ConfigPath = Field(
        default=Path("/var/lib/plate-edge"),
        description="Outbox and snapshots (created when missing); default matches systemd StateDirectory.",
    )
    snapshot_retention_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="Delete snapshots older than this; 0 saves no snapshots (privacy).",
    )
    save_full_frame: bool = Field(
        default=False, description="Also save the whole frame, not only the plate crop."
    )
    outbox_max_events: int = Field(
        default=100_000,
        ge=100,
        description="Outbox bound during broker outages; when full, new events are refused with an alarm "
        "(metric and log), never silently dropped.",
    )


class HttpConfig(StrictModel):
    """The HTTP server: health, metrics, analysis API, page."""

    enabled: bool = Field(default=True, description="Serve HTTP from the daemon.")
    host: str = Field(
        default="127.0.0.1", min_length=1, description="Bind address; 0.0.0.0 exposes it on the LAN."
    )
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port.")


class LoggingConfig(StrictModel):
    """Daemon logging; command-line --log-format / --log-level win over these."""

    format: Literal["text", "json"] = Field(
        default="text", description="text for people, json for log shippers."
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Threshold."
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def _unique_ids(cameras: tuple[CameraConfig, ...]) -> tuple[CameraConfig, ...]:
    first: dict[str, int] = {}
    for index, camera in enumerate(cameras):
        if camera.id in first:
            raise ValueError(
                f"duplicate camera id '{camera.id}' at cameras[{first[camera.id]}] and cameras[{index}]"
            )
        first[camera.id] = index
    return cameras


class Config(StrictModel):
    """A whole site: one gate box, its broker, its cameras."""

    site: Slug = Field(description="Site id; part of MQTT topics and events.")
    topic_prefix: str = Field(
        default="plate-edge", min_length=1, description="MQTT topic prefix, default `plate-edge/<site>`."
    )
    mqtt: MqttConfig = Field(description="Broker connection.")
    cameras: Annotated[tuple[CameraConfig, ...], AfterValidator(_unique_ids)] = Field(
        default=(), description="Cameras; may be empty (e.g. HTTP-only use)."
    )
    recognition: RecognitionConfig = Field(default=RecognitionConfig(), description="Recognition settings.")
    lists: ListsConfig = Field(default=ListsConfig(), description="Allow and deny lists.")
    storage: StorageConfig = Field(default=StorageConfig(), description="Local state.")
    http: HttpConfig = Field(default=HttpConfig(), description="HTTP server.")
    logging: LoggingConfig = Field(default=LoggingConfig(), description="Logging.")

    @model_validator(mode="before")
    @classmethod
    def _site_defaults(cls, data: Any) -> Any:
        # Defaults derived from the site id; skipped when the id is bad, so only the id is reported.
        if not isinstance(data, dict) or not isinstance(data.get("site"), str):
            return data
        site = data["site"]
        try:
            check_slug(site)
        except ValueError:
            return data
        data = {**data}
        data.setdefault("topic_prefix", f"plate-edge/{site}")
        if isinstance(data.get("mqtt"), dict) and "client_id" not in data["mqtt"]:
            data["mqtt"] = {**data["mqtt"], "client_id": f"plate-edge-{site}"}
        return data

    @field_validator("topic_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if "+" in value or "#" in value or "\0" in value:
            raise ValueError("the topic prefix must not contain MQTT wildcards '+' or '#'")
        if value.startswith(("/", "$")) or value.endswith("/") or "//" in value:
            raise ValueError("the topic prefix must not start with '/' or '$', end with '/', or contain '//'")
        return value
