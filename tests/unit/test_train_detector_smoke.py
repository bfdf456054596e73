"""The detector's training script end to end in a few seconds: generate a handful of scenes, train a
narrow network for a few steps, export ONNX, and check the export is what `edge.own_detector` expects
(uint8 NHWC letterbox in, 11 maps at stride 8 out, heat in [0, 1])."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.own_detector import IN_H, IN_W, STRIDE, decode, letterbox
from models.training import train_detector


def test_tiny_training_run_exports_a_usable_model(tmp_path: Path) -> None:
    out = tmp_path / "detector.onnx"
    args = ["--frames", "6", "--val-frames", "2", "--minutes", "0.02", "--batch", "2", "--width", "0.35",
            "--workers", "1", "--threads", "1", "--val-every", "5", "--cache", str(tmp_path / "cache"),
            "--out", str(out), "--no-record"]  # fmt: skip
    assert train_detector.main(args) == 0
    assert out.is_file() and out.with_suffix(".pt").is_file()
    assert list((tmp_path / "cache").glob("quads-*.npz"))  # the data is cached for a rerun
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    assert inp.type == "tensor(uint8)" and inp.shape[1:] == [IN_H, IN_W, 3]
    x, scale = letterbox(np.zeros((720, 1280, 3), np.uint8))
    maps = session.run(None, {inp.name: x[None]})[0]
    assert maps.shape == (1, 11, IN_H // STRIDE, IN_W // STRIDE)
    assert maps[0, 0].min() >= 0.0 and maps[0, 0].max() <= 1.0
    decode(maps[0], scale)  # whatever an untrained net says, it decodes
