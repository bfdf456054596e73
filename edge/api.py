"""The HTTP API (design.md, "HTTP API"): still-image analysis, health, readiness, metrics and the page.

`create_app` builds the FastAPI application around an injected `Recognizer`, so `plate-edge serve`, the
daemon and the tests (with fakes) run the same HTTP code. Design choices:

* Upload bounds: `BodyLimitMiddleware` rejects bodies over ``max_bytes`` + `MULTIPART_SLACK` by declared
  length before reading and by counting while streaming; the image part itself is then held to exactly
  ``max_bytes`` by `edge.imageio.decode` (413), which also decides 415/422 from the content.
* Inference never runs on the event loop: decoding and analysis run in a worker thread behind an anyio
  `CapacityLimiter` of ``max_concurrency`` (default: the usable cores; more only oversubscribes ONNX
  Runtime, which already uses every core per call). Requests beyond the limiter wait, up to ``max_queue``
  of them; past that the API answers 503 with ``Retry-After`` at once rather than letting latency grow
  without bound on a gate box that also serves cameras.
* Readiness: the recognizer's own status (models loaded, providers really used) plus named ``checks``
  (the daemon adds ``cameras`` and ``broker``); each returns a mapping with ``ready: bool``. Any not ready
  (or raising) makes ``/readyz`` answer 503 with the same body.
* Metrics go to a per-app `CollectorRegistry` unless one is passed (the daemon passes its own), so several
  apps in one process (tests) do not collide on prometheus-client's global registry.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from fastapi import FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException

from edge import __version__, jsonschemas
from edge.http_middleware import BodyLimitMiddleware, MetricsMiddleware
from edge.imageio import MAX_BYTES, ImageError, decode
from edge.recognizer import Recognizer

log = logging.getLogger(__name__)

#: Multipart framing around the image (boundaries, part headers, a long file name) fits in this.
MULTIPART_SLACK = 64 * 1024
STATIC_DIR = Path(__file__).resolve().parent / "static"
ReadinessCheck = Callable[[], Mapping[str, Any]]
#: The daemon's live view for the page: ``{"cameras": {id: {state, reason, fps}}, "events": [...]}``.
LiveFeed = Callable[[], Mapping[str, Any]]

_ROUTES = ("/", "/v1/analyze", "/healthz", "/readyz", "/metrics", "/openapi.json")
_ERROR_REF = "#/components/schemas/Error"
_ERROR_STATUSES = {
    413: "Larger than 5 MB",
    415: "Not a JPEG or PNG (by content)",
    422: "Undecodable, empty, truncated or too many pixels; or no `image` field",
    500: "Analysis failed",
    503: "Too many analyses waiting; retry shortly",
}


def usable_cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def image_name(filename: str | None) -> str:
    """The uploaded file's name without folders or control characters ("image" when there is none)."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:255]
    return base or "image"


def download_disposition(name: str) -> str:
    """``Content-Disposition`` for the analysis of ``name`` as ``<stem>.json`` (``car.jpg`` -> ``car.json``).

    Non-ASCII names (Korean file names are common) go in RFC 6266's ``filename*`` with an ASCII fallback.
    """
    stem = PurePosixPath(name).stem if not name.startswith(".") else name.lstrip(".")
    json_name = f"{stem or 'analysis'}.json"
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", json_name)
    if fallback == json_name:
        return f'attachment; filename="{json_name}"'
    if not re.search(r"[A-Za-z0-9]", fallback.removesuffix(".json")):
        fallback = "analysis.json"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(json_name, safe='')}"


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"status": status, "message": message}}, status, headers=dict(headers or {})
    )


def _path_label(path: str) -> str:
    if path in _ROUTES:
        return path
    return "/static" if path.startswith("/static/") else "other"


class _Admission:
    """Bounds analyses: ``limit`` run at once, ``queue`` more wait, the rest are refused (503)."""

    def __init__(self, limit: int, queue: int) -> None:
        self.limit, self.queue = limit, queue
        self.pending = 0  # touched only on the event loop thread
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # created lazily: anyio needs a running event loop
            self._limiter = anyio.CapacityLimiter(self.limit)
        return self._limiter


def create_app(
    recognizer: Recognizer,
    *,
    checks: Mapping[str, ReadinessCheck] | None = None,
    max_bytes: int = MAX_BYTES,
    max_concurrency: int | None = None,
    max_queue: int = 16,
    registry: CollectorRegistry | None = None,
    static_dir: Path = STATIC_DIR,
    live: LiveFeed | None = None,
) -> FastAPI:
    """The FastAPI application serving ``recognizer``; see the module docstring for the choices."""
    registry = registry if registry is not None else CollectorRegistry()
    admission = _Admission(max_concurrency or usable_cores(), max(0, max_queue))
    extra_checks = dict(checks or {})
    latency = Histogram(
        "plate_edge_analysis_seconds",
        "Time to decode and analyse one uploaded image (excluding the upload), successful analyses.",
        buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0),
        registry=registry,
    )
    in_flight = Gauge("plate_edge_analyses_in_flight", "Analyses running or waiting.", registry=registry)

    app = FastAPI(
        title="plate-edge",
        version=__version__,
        description="Korean licence-plate recognition: still-image analysis, health, readiness, metrics.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: dead on an offline gate box
        redoc_url=None,
    )
    too_large = f"upload too large: the image limit is {max_bytes} bytes"
    app.add_middleware(BodyLimitMiddleware, max_body=max_bytes + MULTIPART_SLACK, message=too_large)
    app.add_middleware(MetricsMiddleware, registry=registry, label_of=_path_label)  # outermost: sees all
    app.state.registry = registry

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            loc = [str(part) for part in err.get("loc", ()) if part != "body"]
            missing = err.get("type") == "missing" and loc == ["image"]
            problems.append(
                "multipart field 'image' is required" if missing else f"{'.'.join(loc)}: {err['msg']}"
            )
        return _error(422, "; ".join(problems) or "invalid request")

    def analyse(data: bytes, name: str) -> dict[str, Any]:
        t0 = time.perf_counter()
        decoded = decode(data, strict=True, max_bytes=max_bytes)
        return recognizer.analyze(decoded.image, name, (time.perf_counter() - t0) * 1e3)

    error_responses: dict[int | str, dict[str, Any]] = {
        status: {"description": desc, "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}}}
        for status, desc in _ERROR_STATUSES.items()
    }
    error_responses[200] = {
        "description": "The analysis (schema plate-edge/analysis/1)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Analysis"}}},
    }

    @app.post("/v1/analyze", responses=error_responses, response_class=JSONResponse)
    async def analyze_image(
        image: Annotated[
            UploadFile, File(description="JPEG or PNG, at most 5 MB; format read from the content")
        ],
        download: Annotated[bool, Query(description="1: answer as an attachment named <image>.json")] = False,
    ) -> Response:
        """Find and read the licence plates in one still image."""
        name = image_name(image.filename)
        data = await image.read(max_bytes + 1)  # the body limit already bounds it; never more than this
        await image.close()
        if admission.pending >= admission.limit + admission.queue:
            return _error(503, "too many analyses in progress; retry shortly", {"Retry-After": "1"})
        admission.pending += 1
        in_flight.inc()
        t0 = time.perf_counter()
        try:
            result = await anyio.to_thread.run_sync(analyse, data, name, limiter=admission.limiter)
        except ImageError as e:
            return _error(e.status, e.message)
        except Exception:
            log.exception("analysis of %s failed", name)
            return _error(500, "analysis failed (see the server log)")
        finally:
            admission.pending -= 1
            in_flight.dec()
        latency.observe(time.perf_counter() - t0)
        headers = {"Content-Disposition": download_disposition(name)} if download else None
        return JSONResponse(result, headers=headers)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers HTTP."""
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "Something is not ready; the body says what"}})
    def readyz() -> JSONResponse:
        """Readiness: models loaded (with the providers really used), plus cameras and broker under the
        daemon. 200 when everything is ready, else 503."""
        components = {"models": _run_check(recognizer.status)}
        components.update({name: _run_check(check) for name, check in extra_checks.items()})
        ready = all(c.get("ready") is True for c in components.values())
        return JSONResponse({"ready": ready, **components}, 200 if ready else 503)

    @app.get("/metrics", response_class=Response)
    def metrics() -> Response:
        """Prometheus metrics (text exposition format)."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if live is not None:

        @app.get("/v1/live")
        def live_view() -> JSONResponse:
            """The daemon's camera states and its most recent vehicle events (newest first), for the page.
            Only served by `plate-edge run`; plate snapshots are not exposed here."""
            return JSONResponse(dict(live()))

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(static_dir / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=static_dir), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _run_check(check: ReadinessCheck) -> dict[str, Any]:
    try:
        return dict(check())
    except Exception as e:  # a broken check must not break /readyz itself
        log.warning("readiness check failed: %s", e)
        return {"ready": False, "error": f"{type(e).__name__}: {e}"}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the analysis and error JSON Schemas as components, so integrators see the
    exact response shapes (the ``$defs`` references are rewritten to component references)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, title in (("analysis", "Analysis"), ("error", "Error")):
        doc = jsonschemas.load(name)
        defs = doc.get("$defs", {})
        prefix = f"{title}_"

        def rewrite(node: Any, prefix: str = prefix) -> Any:
            if isinstance(node, dict):
                return {
                    k: (f"#/components/schemas/{prefix}{v.rsplit('/', 1)[1]}" if k == "$ref" else rewrite(v))
                    for k, v in node.items()
                    if k not in ("$schema", "$id", "$defs")
                }
            if isinstance(node, list):
                return [rewrite(v) for v in node]
            return node

        components[title] = rewrite(doc)
        components.update({f"{prefix}{key}": rewrite(value) for key, value in defs.items()})
    app.openapi_schema = schema
    return schema
