"""`plate-edge analyze` and the HTTP API with the real models on seeded synthetic plates.

Crops come from `models.training.dataset.film` (the reader's own capture simulation, random degradations
included); the scene is a 1280x720 frame with a clean plate pasted in, which the text detector must find.
The command runs as a subprocess through the installed console script, as a user would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from edge.api import create_app
from edge.evaluate import edit_distance
from tests.support import images
from tests.support.real_models import require_models
from tests.support.scenes import jpeg, plate_crop, plate_scene
from tests.support.schemas import assert_analysis, assert_error

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = Path(sys.executable).with_name("plate-edge")
CROP_SEEDS = (11, 12, 13, 14)  # film() draws style and degradations from the seed
SCENE_SEED = 1


@pytest.fixture(scope="module")
def models() -> Path:
    return require_models()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("analyze")
    crops = []
    for i, seed in enumerate(CROP_SEEDS):
        sample = plate_crop(seed)
        path = d / f"crop{seed}.{'png' if i % 2 else 'jpg'}"
        if path.suffix == ".png":
            cv2.imwrite(str(path), sample.image)
        else:
            path.write_bytes(jpeg(sample.image, 95))
        crops.append((path, sample.text))
    scene = plate_scene(SCENE_SEED)
    scene_path = d / "scene.jpg"
    scene_path.write_bytes(jpeg(scene.image))
    corrupt = d / "corrupt.jpg"
    corrupt.write_bytes(scene_path.read_bytes()[:2000])
    return {"dir": d, "crops": crops, "scene": (scene_path, scene), "corrupt": corrupt}


def plate_edge(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, "analyze", *map(str, args)], capture_output=True, text=True, timeout=240)


def _inside(point: np.ndarray, quad: np.ndarray) -> bool:
    return cv2.pointPolygonTest(quad.astype(np.float32), (float(point[0]), float(point[1])), False) >= 0


def test_scene_reads_the_plate_and_writes_json_and_drawing(models: Path, files: dict[str, Any]) -> None:
    scene_path, scene = files["scene"]
    out_json, out_png = files["dir"] / "out" / "scene.json", files["dir"] / "out" / "scene.png"
    result = plate_edge(scene_path, "--json", out_json, "--draw", out_png)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert_analysis(doc)
    assert doc["image"] == {"name": "scene.jpg", "width": 1280, "height": 720, "resolution": "normal"}
    assert doc["plates"], f"no plate found in the scene (truth {scene.text}); stderr:\n{result.stderr}"
    best = doc["plates"][0]
    assert best["text"] == scene.text and best["valid"] is True
    assert _inside(np.asarray(best["box"]).mean(axis=0), scene.quad), (best["box"], scene.quad.tolist())
    assert out_json.read_text(encoding="utf-8") == result.stdout
    with Image.open(out_png) as drawn:
        assert drawn.size == (1280, 720)
        changed = np.asarray(drawn.convert("RGB")) != np.asarray(Image.open(scene_path).convert("RGB"))
        assert changed.any(axis=2).mean() > 0.002  # boxes and a label were drawn


def test_corrupt_file_among_good_ones(models: Path, files: dict[str, Any]) -> None:
    crops = files["crops"]
    args = [crops[0][0], crops[1][0], files["corrupt"], *(p for p, _ in crops[2:])]
    drawn = files["dir"] / "drawn"
    result = plate_edge(*args, "--draw", drawn)
    assert result.returncode == 2, result.stderr
    docs = json.loads(result.stdout)
    assert [d["image"]["name"] for d in docs] == [Path(a).name for a in args]
    assert_error(docs[2], 422)
    good = [d for i, d in enumerate(docs) if i != 2]
    for d in good:
        assert_analysis(d)
    # Wiring, not accuracy (`plate-edge eval` scores that): film() degrades some crops heavily, so a read may
    # miss a character, but every crop gives a plate and the reads are close to the truth.
    pairs = [
        (d["plates"][0]["text"] if d["plates"] else "", t) for d, (_, t) in zip(good, crops, strict=True)
    ]
    assert all(read for read, _ in pairs), pairs
    errors = sum(edit_distance(read, truth) for read, truth in pairs)
    assert errors <= 0.15 * sum(len(truth) for _, truth in pairs), pairs
    assert sorted(p.name for p in drawn.iterdir()) == sorted(f"{Path(p).stem}.png" for p, _ in crops)


def test_api_with_real_models(models: Path, files: dict[str, Any]) -> None:
    from edge.recognizer import load_recognizer

    scene_path, scene = files["scene"]
    with TestClient(create_app(load_recognizer(models))) as client:
        response = client.post(
            "/v1/analyze", files={"image": ("scene.jpg", scene_path.read_bytes(), "image/jpeg")}
        )
        assert response.status_code == 200, response.text
        doc = response.json()
        assert_analysis(doc)
        assert doc["plates"] and doc["plates"][0]["text"] == scene.text
        ready = client.get("/readyz")
        assert ready.status_code == 200
        providers = ready.json()["models"]["providers"]
        assert set(providers) == {"locator", "reader", "detector"}
        assert all(p and p[-1] == "CPUExecutionProvider" for p in providers.values()), providers
        assert ready.json()["models"]["reader_precision"] == "float"  # the default copy
        bad = client.post(
            "/v1/analyze", files={"image": ("c.jpg", files["corrupt"].read_bytes(), "image/jpeg")}
        )
        assert bad.status_code == 422
        for w, h in ((1, 1), (40, 30), (3000, 20), (20, 3000), (300, 100)):  # odd shapes must not be a 500
            data = images.png_bytes(w, h, seed=w)
            response = client.post("/v1/analyze", files={"image": (f"{w}x{h}.png", data, "image/png")})
            assert response.status_code == 200, (w, h, response.text)
            assert_analysis(response.json())


#: The bundled demo frames and their plates, as `python -m models.training.scenes --out demo --n 4 --seed 11`
#: prints them (two vehicles in gate-02 and gate-04).
DEMO_TRUTH = {
    "gate-01.jpg": {"23육5849"},
    "gate-02.jpg": {"대구5자5410", "826저3638"},
    "gate-03.jpg": {"55마0346"},
    "gate-04.jpg": {"세종61고3529", "서울14조0038"},
}


def test_bundled_demo_folder(models: Path) -> None:
    demo = Path(__file__).resolve().parents[2] / "demo"
    result = plate_edge(demo)
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert [d["image"]["name"] for d in docs] == sorted(DEMO_TRUTH)
    found = {}
    for d in docs:
        assert_analysis(d)
        found[d["image"]["name"]] = {p["text"] for p in d["plates"]}
    hits = sum(len(found[name] & truth) for name, truth in DEMO_TRUTH.items())
    assert hits >= 5, found  # of 6 plates; each frame has its own degradations
