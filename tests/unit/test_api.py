"""The HTTP API with an injected fake recognizer: validation of untrusted uploads, limits, concurrency,
readiness, metrics, OpenAPI and the page. Every bad file is generated here and sent to one long-lived app,
which must go on serving valid requests after each."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from edge.api import MULTIPART_SLACK, create_app, download_disposition, image_name
from edge.imageio import MAX_BYTES
from tests.support import images
from tests.support.fakes import FAKE_TEXT, BrokenRecognizer, GatedRecognizer, fake_recognizer
from tests.support.schemas import assert_analysis, assert_error

JPEG = images.jpeg_bytes(640, 480)
PNG = images.png_bytes(320, 200)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One app for the whole module: it must survive every bad upload."""
    with TestClient(create_app(fake_recognizer())) as c:
        yield c


def post(client: TestClient, name: str, data: bytes, query: str = "") -> Any:
    return client.post(f"/v1/analyze{query}", files={"image": (name, data, "application/octet-stream")})


def assert_serves(client: TestClient) -> None:
    response = post(client, "after.jpg", JPEG)
    assert response.status_code == 200, response.text
    assert response.json()["plates"][0]["text"] == FAKE_TEXT


@pytest.mark.parametrize(
    ("name", "data", "size"),
    [
        ("car.jpg", JPEG, (640, 480)),
        ("png-called.jpg", PNG, (320, 200)),
        ("jpeg-called.png", JPEG, (640, 480)),
    ],
    ids=["jpeg", "png renamed .jpg", "jpeg renamed .png"],
)
def test_content_decides_the_format(
    client: TestClient, name: str, data: bytes, size: tuple[int, int]
) -> None:
    response = post(client, name, data)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert_analysis(body)
    assert body["image"] == {"name": name, "width": size[0], "height": size[1], "resolution": "low"}
    assert [p["text"] for p in body["plates"]] == [FAKE_TEXT]
    assert "content-disposition" not in response.headers


BAD_UPLOADS = {
    "truncated jpeg": ("cut.jpg", JPEG[: len(JPEG) // 2], 422),
    "jpeg header only": ("head.jpg", JPEG[:3], 422),
    "jpeg magic then garbage": ("garbage.jpg", b"\xff\xd8\xff" + bytes(range(256)) * 4, 422),
    "0 bytes": ("empty.jpg", b"", 422),
    "tiff renamed .jpg": ("tiff.jpg", images.pillow_bytes("TIFF"), 415),
    "gif": ("anim.gif", images.pillow_bytes("GIF"), 415),
    "bmp": ("bitmap.png", images.pillow_bytes("BMP"), 415),
    "random bytes": ("random.jpg", bytes(((i * 7919 + 13) % 251) for i in range(4096)), 415),
    "png bomb 30000x30000": ("bomb.png", images.png_bomb(), 422),
    "48 MP png over our limit": ("big.png", images.png_bomb(8000, 6000), 422),
}


@pytest.mark.parametrize(("name", "data", "status"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_bad_uploads_and_the_server_keeps_serving(
    client: TestClient, name: str, data: bytes, status: int
) -> None:
    response = post(client, name, data)
    assert response.status_code == status, response.text
    assert_error(response.json(), status)
    assert_serves(client)


def test_six_megabyte_jpeg_is_413(client: TestClient) -> None:
    big = images.noise_jpeg(6 * 1024 * 1024)
    assert big[:3] == b"\xff\xd8\xff" and len(big) >= 6 * 1024 * 1024
    response = post(client, "noise.jpg", big)
    assert response.status_code == 413
    assert_error(response.json(), 413)
    assert_serves(client)


def test_just_over_the_limit_is_413_from_the_decoder(client: TestClient) -> None:
    """5 MB + 1 byte fits the multipart slack of the body limit; the image check itself says 413."""
    data = JPEG + b"\x00" * (MAX_BYTES + 1 - len(JPEG))
    response = post(client, "limit.jpg", data)
    assert response.status_code == 413 and "5242880" in response.json()["error"]["message"]
    assert_serves(client)


def _multipart(name: str, data: bytes, boundary: str = "plateedgeboundary") -> tuple[bytes, str]:
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_chunked_upload_without_content_length_is_counted(client: TestClient) -> None:
    def chunks(body: bytes) -> Iterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    small, ctype = _multipart("ok.jpg", JPEG)
    response = client.post("/v1/analyze", content=chunks(small), headers={"content-type": ctype})
    assert response.status_code == 200, response.text
    big, ctype = _multipart("big.jpg", b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + MULTIPART_SLACK))
    response = client.post("/v1/analyze", content=chunks(big), headers={"content-type": ctype})
    assert response.status_code == 413
    assert_error(response.json(), 413)
    assert_serves(client)


def _raw_call(
    app: FastAPI, declared: int, body: bytes, chunk: int = 64 * 1024
) -> tuple[int, int, dict[str, Any]]:
    """Call the ASGI app directly: (status, body bytes the app pulled, error JSON)."""
    _, ctype = _multipart("x.jpg", b"")
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        piece = body[pulled : pulled + chunk]
        pulled += len(piece)
        return {"type": "http.request", "body": piece, "more_body": pulled < len(body)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/v1/analyze", "raw_path": b"/v1/analyze", "root_path": "", "query_string": b"",
        "headers": [(b"content-length", str(declared).encode()), (b"content-type", ctype.encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip

    async def call() -> None:
        await app(scope, receive, send)  # type: ignore[arg-type]

    anyio.run(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], pulled, json.loads(payload)


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    gated = GatedRecognizer()
    status, pulled, body = _raw_call(create_app(gated), 50 * 1024 * 1024, b"x" * 1024)
    assert (status, pulled, gated.calls) == (413, 0, 0)
    assert_error(body, 413)


def test_lying_content_length_cannot_exceed_the_limit() -> None:
    """A client declaring 1 KB and sending 20 MB is cut off just past the limit, not buffered."""
    gated = GatedRecognizer()
    body, _ = _multipart("liar.jpg", b"\xff\xd8\xff" + b"\x00" * (20 * 1024 * 1024))
    status, pulled, err = _raw_call(create_app(gated), 1024, body)
    assert status == 413 and gated.calls == 0
    assert MAX_BYTES < pulled <= MAX_BYTES + MULTIPART_SLACK + 64 * 1024
    assert_error(err, 413)


def test_exif_orientation_is_honoured(client: TestClient) -> None:
    data = images.jpeg_bytes(200, 100, exif=images.exif_orientation(6))  # stored landscape, shown portrait
    body = post(client, "rotated.jpg", data).json()
    assert (body["image"]["width"], body["image"]["height"]) == (100, 200)


@pytest.mark.parametrize(
    ("name", "disposition"),
    [
        ("car.jpg", 'attachment; filename="car.json"'),
        ("C:\\photos\\gate 1.png", "attachment; filename=\"gate_1.json\"; filename*=UTF-8''gate%201.json"),
        ("차량.jpg", "attachment; filename=\"analysis.json\"; filename*=UTF-8''%EC%B0%A8%EB%9F%89.json"),
    ],
)
def test_download_adds_content_disposition(client: TestClient, name: str, disposition: str) -> None:
    response = post(client, name, JPEG, "?download=1")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == disposition
    assert response.json()["image"]["name"] == image_name(name)
    assert download_disposition(image_name(name)) == disposition


def test_missing_field_and_wrong_body_are_422(client: TestClient) -> None:
    response = client.post("/v1/analyze", files={"photo": ("a.jpg", JPEG, "image/jpeg")})
    assert response.status_code == 422
    assert_error(response.json(), 422)
    assert "'image'" in response.json()["error"]["message"]
    response = client.post("/v1/analyze", content=JPEG, headers={"content-type": "image/jpeg"})
    assert response.status_code == 422
    assert_error(response.json(), 422)


def test_unknown_path_and_method_use_the_error_format(client: TestClient) -> None:
    assert_error(client.get("/nope").json(), 404)
    assert_error(client.get("/v1/analyze").json(), 405)


def test_analysis_failure_is_500_and_the_server_lives_on() -> None:
    with TestClient(create_app(BrokenRecognizer())) as c:
        response = post(c, "a.jpg", JPEG)
        assert response.status_code == 500
        assert_error(response.json(), 500)
        assert "exploded" not in response.text  # internals stay in the log
        assert c.get("/healthz").json() == {"status": "ok"}


def test_concurrency_is_bounded_and_the_event_loop_stays_free() -> None:
    gated = GatedRecognizer()
    with TestClient(create_app(gated, max_concurrency=2)) as c, ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(post, c, f"{i}.jpg", JPEG) for i in range(6)]
        for _ in range(2):
            assert gated.entered.acquire(timeout=10)
        time.sleep(0.2)  # give a third analysis the chance to start if the bound were broken
        t0 = time.perf_counter()
        assert c.get("/healthz").status_code == 200
        assert time.perf_counter() - t0 < 0.5  # answered while two analyses hold both workers
        assert gated.running == 2
        gated.release.set()
        assert [f.result(timeout=20).status_code for f in futures] == [200] * 6
    assert gated.max_running == 2


def test_overload_is_503_with_retry_after() -> None:
    gated = GatedRecognizer()
    with TestClient(create_app(gated, max_concurrency=1, max_queue=0)) as c, ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, c, "first.jpg", JPEG)
        assert gated.entered.acquire(timeout=10)
        response = post(c, "second.jpg", JPEG)
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert_error(response.json(), 503)
        gated.release.set()
        assert first.result(timeout=10).status_code == 200


def test_readyz_reports_models_and_checks() -> None:
    with TestClient(create_app(fake_recognizer())) as c:
        response = c.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {
            "ready": True,
            "models": {
                "ready": True,
                "detector": "fake",
                "providers": {"locator": [], "reader": [], "detector": []},
            },
        }

    def broker() -> dict[str, Any]:
        return {"ready": False, "state": "reconnecting"}

    def cameras() -> dict[str, Any]:
        raise RuntimeError("camera table locked")

    with TestClient(create_app(fake_recognizer(), checks={"broker": broker, "cameras": cameras})) as c:
        response = c.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False and body["models"]["ready"] is True
        assert body["broker"] == {"ready": False, "state": "reconnecting"}
        assert body["cameras"]["ready"] is False and "camera table locked" in body["cameras"]["error"]


def test_metrics_count_statuses_and_latency() -> None:
    with TestClient(create_app(fake_recognizer())) as c:
        assert post(c, "a.jpg", JPEG).status_code == 200
        assert post(c, "b.gif", images.pillow_bytes("GIF")).status_code == 415
        c.get("/no/such/path")
        big, ctype = _multipart("huge.jpg", b"\xff\xd8\xff" + bytes(6 * 1024 * 1024))
        assert c.post("/v1/analyze", content=big, headers={"content-type": ctype}).status_code == 413
        text = c.get("/metrics").text
    assert 'plate_edge_http_requests_total{method="POST",path="/v1/analyze",status="200"} 1.0' in text
    assert 'plate_edge_http_requests_total{method="POST",path="/v1/analyze",status="415"} 1.0' in text
    assert 'plate_edge_http_requests_total{method="POST",path="/v1/analyze",status="413"} 1.0' in text
    assert 'plate_edge_http_requests_total{method="GET",path="other",status="404"} 1.0' in text
    assert "plate_edge_analysis_seconds_count 1.0" in text
    assert "plate_edge_analyses_in_flight 0.0" in text


def test_openapi_describes_the_analysis(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    op = doc["paths"]["/v1/analyze"]["post"]
    assert {"200", "413", "415", "422", "503"} <= set(op["responses"])
    assert "image" in json.dumps(op["requestBody"])
    schemas = doc["components"]["schemas"]
    assert schemas["Analysis"]["properties"]["schema"] == {"const": "plate-edge/analysis/1"}
    refs = {m for m in _refs(doc)}
    assert refs and all(r.rsplit("/", 1)[1] in schemas for r in refs), refs - {
        f"#/components/schemas/{k}" for k in schemas
    }


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_page_and_static_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta charset="utf-8">' in page.text and 'id="file"' in page.text and "이미지" in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/v1/analyze" in script.text


def test_live_view_only_under_the_daemon(client: TestClient) -> None:
    assert client.get("/v1/live").status_code == 404  # plain `serve`
    feed = {"cameras": {"entry": {"state": "streaming", "reason": None, "fps": 15.0}}, "events": []}
    with TestClient(create_app(fake_recognizer(), live=lambda: feed)) as live_client:
        response = live_client.get("/v1/live")
        assert response.status_code == 200 and response.json() == feed
