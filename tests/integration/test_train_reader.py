"""Reader training end to end in seconds: shards -> a few CTC steps -> ONNX the runtime can load.

Not about accuracy (`plate-edge eval` on the synthetic test set scores the shipped model): this keeps
the training command, the export contract (input, dynamic batch, 64 time steps, softmax output) and the
shipped ONNX's output shape from drifting apart from the network in the code.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from edge.areas import READER_H, READER_W, AreaCut
from edge.ocr import OnnxReader
from edge.plate import CHARSET, HIDDEN, LineRole
from edge.runtime import ModelError, sha256_of
from models.training import average_reader, reader_from_onnx, train_reader
from models.training.dataset import ShardJob, _shard
from models.training.manifest import output_classes
from models.training.reader_model import Reader
from tests.support.real_models import require_models

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TIME_STEPS = 64


def test_tiny_training_run_exports_a_loadable_reader(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for seed in (1, 2):
        _shard(ShardJob(seed, 6, str(data)))
    out = tmp_path / "reader.onnx"
    args = shlex.split("--minutes 0.06 --batch 8 --warmup 2 --log-every 3 --val-size 8 --threads 1")
    rc = train_reader.main(["--data", str(data), "--out", str(out), *args])
    assert rc == 0
    log = capsys.readouterr().out
    assert "val_exact=" in log and "samples/s" in log  # progress is logged as numbers
    assert out.with_suffix(".pt").is_file()

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    batch = np.random.default_rng(0).uniform(0, 255, (3, 1, READER_H, READER_W)).astype(np.float32)
    (probs,) = session.run(None, {"image": batch})
    assert probs.shape == (3, TIME_STEPS, len(CHARSET) + 1)
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-4)


def test_weight_averaging_run_averages_every_nth_step_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--swa-start 0`: a fine-tune that averages its weights from the start takes one point every
    ``--swa-every`` steps, moves away from its init, measures its batch-norm statistics anew, and the
    network it writes exports."""
    data = tmp_path / "data"
    data.mkdir()
    for seed in (1, 2):
        _shard(ShardJob(seed, 6, str(data)))
    init = tmp_path / "init.pt"
    torch.manual_seed(0)
    torch.save(Reader(len(CHARSET) + 1).state_dict(), init)
    out = tmp_path / "reader.onnx"
    args = "--minutes 0.05 --batch 8 --log-every 5 --val-size 8 --threads 1 --lr 1e-3 --warmup 1"
    swa = f"--init {init} --swa-start 0 --swa-every 2 --swa-lr 1e-3 --bn-batches 3"
    assert train_reader.main(["--data", str(data), "--out", str(out), *shlex.split(f"{args} {swa}")]) == 0
    log = capsys.readouterr().out
    points = int(log.split("averaging starts", 1)[1].split("averaged ", 1)[1].split()[0])
    steps = int(log.rsplit("steps=", 1)[1].split()[0])
    assert points == steps // 2 and points >= 2
    written = torch.load(out.with_suffix(".pt"))
    first = torch.load(init)
    # trained away from the init, and batch-norm statistics re-measured on training batches
    assert not torch.equal(written["head.weight"], first["head.weight"])
    assert not torch.equal(written["features.1.running_mean"], first["features.1.running_mean"])
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"image": np.zeros((1, 1, READER_H, READER_W), np.float32)})
    assert probs.shape == (1, TIME_STEPS, len(CHARSET) + 1)


def test_shipped_onnx_has_the_shape_of_the_network_in_the_code() -> None:
    """A retrained network (other stride, other charset) must ship with its ONNX, or this fails; the
    manifest says whether it has the hidden class (`edge.plate.HIDDEN`) after the charset."""
    entry = json.loads((require_models() / "manifest.json").read_text(encoding="utf-8"))["models"]["reader"]
    classes = len(CHARSET) + 1 + int(entry["hidden_class"])
    with torch.no_grad():
        logits = Reader(classes).eval()(torch.zeros(1, 1, READER_H, READER_W))
    session = ort.InferenceSession(str(require_models() / "reader.onnx"), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"image": np.zeros((2, 1, READER_H, READER_W), np.float32)})
    assert logits.shape == (1, TIME_STEPS, classes)
    assert probs.shape == (2, *logits.shape[1:])


def test_the_shard_pool_takes_shards_as_they_land_and_never_the_validation_one(tmp_path: Path) -> None:
    for seed in (1, 2):
        _shard(ShardJob(seed, 3, str(tmp_path)))
    val = tmp_path / "shard-1.npz"
    pool = train_reader.ShardPool(tmp_path, val, torch.device("cpu"))
    pool.refresh()
    assert pool.used == [tmp_path / "shard-2.npz"]
    first = len(pool.lengths)
    assert first >= 3 and pool.images.shape == (first, READER_H, READER_W)
    (tmp_path / ".tmp-9.npz").write_bytes(b"half written")  # the generator's file before its rename
    _shard(ShardJob(0, 4, str(tmp_path)))  # sorts before the validation shard: still trained on
    pool.refresh()
    assert pool.used == [tmp_path / "shard-2.npz", tmp_path / "shard-0.npz"]
    assert len(pool.lengths) == len(pool.labels) == len(pool.images) > first
    pool.refresh()  # nothing new: nothing read twice
    assert len(pool.used) == 2


def test_a_stage_draws_its_data_while_it_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`reader_stage`: the generator runs beside the trainer, which starts on the first shards and
    stops the generator when its budget is spent (no process left behind)."""
    from models.training import reader_stage

    data, out = tmp_path / "data", tmp_path / "reader.onnx"
    train = f"--minutes 0.25 --batch 8 --warmup 2 --log-every 3 --reload-every 2 --val-size 8 --out {out}"
    rc = reader_stage.main(
        shlex.split(f"--data {data} --plates 3000 --seed 5 --per-shard 3 --workers 1 -- {train} --threads 1")
    )
    assert rc == 0
    log = capsys.readouterr().out
    assert "validation shard shard-5000" in log and "val_exact=" in log
    landed = int(log.rsplit("shards landed: ", 1)[1].split()[0])
    assert 2 <= landed < 3000 // 3  # stopped early: PLATES is a ceiling
    assert "Traceback" not in (data / "generator.log").read_text()
    time.sleep(1)
    assert sorted(data.glob("shard-*.npz")) and len(list(data.glob("shard-*.npz"))) == landed  # stopped
    assert out.is_file()


def test_averaged_reader_is_the_mean_of_its_parents_and_exports(tmp_path: Path) -> None:
    torch.manual_seed(0)
    a, b = Reader(len(CHARSET) + 1), Reader(len(CHARSET) + 1)
    b.features[1].running_mean.add_(1.0)  # a batch-norm statistic differs too
    for p in b.parameters():
        p.data.add_(torch.randn_like(p))
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]
    torch.save(a.state_dict(), paths[0])
    torch.save(b.state_dict(), paths[1])
    out = tmp_path / "mean.onnx"
    assert average_reader.main(["--out", str(out), *map(str, paths)]) == 0

    mean = torch.load(out.with_suffix(".pt"))
    for k, va in a.state_dict().items():
        vb = b.state_dict()[k]
        expected = (va + vb) / 2 if va.is_floating_point() else va
        torch.testing.assert_close(mean[k], expected)
    # the exported network is the averaged one: same output as the mean weights loaded in torch
    model = Reader(len(CHARSET) + 1)
    model.load_state_dict(mean)
    x = np.random.default_rng(1).uniform(0, 255, (2, 1, READER_H, READER_W)).astype(np.float32)
    with torch.no_grad():
        want = torch.softmax(model.eval()(torch.from_numpy(x) / 127.5 - 1.0), -1).numpy()
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probs,) = session.run(None, {"image": x})
    np.testing.assert_allclose(probs, want, atol=1e-4)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("head.bias"), "keys"),
        (lambda s: s.__setitem__("head.bias", torch.zeros(3)), "shapes"),
    ],
)
def test_averaging_refuses_networks_that_do_not_match(
    mutate: Callable[[dict[str, torch.Tensor]], object], message: str
) -> None:
    a = Reader(len(CHARSET) + 1).state_dict()
    b = dict(Reader(len(CHARSET) + 1).state_dict())
    mutate(b)
    with pytest.raises(ValueError, match=message):
        average_reader.average([a, b])
    with pytest.raises(ValueError, match="nothing"):
        average_reader.average([])


def _random_reader(seed: int) -> Reader:
    """A reader whose batch norms are far from the identity, as a trained one's are."""
    torch.manual_seed(seed)
    model = Reader(len(CHARSET) + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 2.0)
                m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-1.0, 1.0)
                m.running_var.uniform_(0.2, 3.0)
        for p in model.rnn.parameters():
            p.mul_(3.0)  # GRU gates far from 0.5: a gate-order mix-up shows
    return model.eval()


def test_a_reader_is_rebuilt_from_its_onnx(tmp_path: Path) -> None:
    """The ONNX folds batch norm into the convolutions; the rebuilt torch network computes the same
    probabilities in evaluation, and in training mode its batch norms see the statistics they hold."""
    original = _random_reader(3)
    onnx_path = tmp_path / "reader.onnx"
    train_reader.export(original, onnx_path)
    original.eval()  # torch.onnx.export puts the wrapper, and so the network, back in training mode
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 255, (16, 1, READER_H, READER_W)).astype(np.float32)
    batches = [torch.from_numpy(x) / 127.5 - 1.0]
    rebuilt = reader_from_onnx.rebuild(onnx_path, batches)
    assert reader_from_onnx.max_difference(rebuilt, onnx_path, x) < reader_from_onnx.MAX_PROB_DIFF
    with torch.no_grad():
        want = torch.softmax(original(batches[0]), -1)
        rebuilt.train()
        rebuilt.features[-1].p = 0.0  # dropout off: compare batch norm only
        got = torch.softmax(rebuilt(batches[0]), -1)
    # on the very batch it was measured on, training mode normalises by the same statistics
    torch.testing.assert_close(got, want, atol=1e-3, rtol=0)


def test_the_shipped_reader_is_rebuilt_and_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = require_models()
    data = tmp_path / "data"
    data.mkdir()
    _shard(ShardJob(5, 8, str(data)))
    out = tmp_path / "reader.pt"
    argv = [
        str(models / "reader.onnx"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--batches",
        "2",
        "--batch",
        "8",
    ]
    assert reader_from_onnx.main(argv) == 0
    assert "rebuilt" in capsys.readouterr().out
    model = Reader(output_classes(models / "reader.onnx"))  # with the hidden class when it has one
    model.load_state_dict(torch.load(out))
    x = np.random.default_rng(6).uniform(0, 255, (4, 1, READER_H, READER_W)).astype(np.float32)
    assert reader_from_onnx.max_difference(model, models / "reader.onnx", x) < reader_from_onnx.MAX_PROB_DIFF


def test_rebuilding_refuses_another_network() -> None:
    models = require_models()
    with pytest.raises(ValueError, match="not the network"):
        reader_from_onnx.load_folded(Reader(len(CHARSET) + 1), models / "locator.onnx")


def _models_dir_with(reader: Path, tmp_path: Path, hidden_class: bool) -> Path:
    """The shipped models folder with ``reader`` as its reader, its manifest entry saying so."""
    shipped, models = require_models(), tmp_path / f"models-{hidden_class}"
    models.mkdir()
    for name in ("detector.onnx", "locator.onnx"):
        shutil.copy(shipped / name, models / name)
    shutil.copy(reader, models / "reader.onnx")
    manifest = json.loads((shipped / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["models"]["reader"]
    entry.update(sha256=sha256_of(models / "reader.onnx"), bytes=(models / "reader.onnx").stat().st_size)
    entry["hidden_class"] = hidden_class
    manifest["models"].pop("reader_int8", None)
    (models / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return models


def _occluded_shards_and_a_parent(tmp_path: Path) -> tuple[Path, Path]:
    """Two tiny shards of occluded plates, and a reader without the hidden class to start from."""
    data = tmp_path / "data"
    data.mkdir()
    for seed in (1, 2):
        _shard(ShardJob(seed, 8, str(data), occlude=1.0))
    init = tmp_path / "init.pt"
    torch.manual_seed(0)
    torch.save(Reader(len(CHARSET) + 1).state_dict(), init)
    return data, init


def test_a_fine_tune_on_occluded_shards_gains_the_hidden_class_and_the_runtime_reads_with_it(
    tmp_path: Path,
) -> None:
    data, init = _occluded_shards_and_a_parent(tmp_path)
    out = tmp_path / "reader.onnx"
    args = shlex.split(f"--minutes 0.03 --batch 8 --log-every 3 --val-size 8 --threads 1 --init {init}")
    with pytest.raises(SystemExit, match="--hidden-class"):  # the hidden labels need the class
        train_reader.main(["--data", str(data), "--out", str(out), *args])
    assert train_reader.main(["--data", str(data), "--out", str(out), *args, "--hidden-class"]) == 0
    assert output_classes(out) == len(CHARSET) + 2
    written = torch.load(out.with_suffix(".pt"))
    assert written["head.weight"].shape[0] == len(CHARSET) + 2

    reader = OnnxReader(_models_dir_with(out, tmp_path, hidden_class=True), "cpu")
    assert reader.charset == CHARSET + HIDDEN
    area = np.full((READER_H, READER_W), 200, np.uint8)
    (read,) = reader.read([AreaCut(LineRole.SINGLE, np.zeros((4, 2), np.float32), area)])
    assert 0.0 <= read.confidence <= 1.0
    with pytest.raises(ModelError, match="75 classes"):  # a manifest that does not say so is refused
        OnnxReader(_models_dir_with(out, tmp_path, hidden_class=False), "cpu")


def test_averaging_a_reader_with_the_hidden_class_and_one_without_keeps_the_trained_hidden_row() -> None:
    torch.manual_seed(0)
    old = Reader(len(CHARSET) + 1).state_dict()
    new = train_reader.with_hidden_class(Reader(len(CHARSET) + 1).state_dict())
    new["head.weight"][-1] += 1.0  # as if trained
    assert train_reader.with_hidden_class(new) is new  # already has it
    mean = average_reader.average(average_reader.unify_heads([old, old, new]))
    torch.testing.assert_close(mean["head.weight"][-1], new["head.weight"][-1])
    torch.testing.assert_close(
        mean["head.weight"][:-1], (2 * old["head.weight"] + new["head.weight"][:-1]) / 3
    )
    assert float(new["head.bias"][-1]) == pytest.approx(
        float(new["head.bias"][0]) + train_reader.HIDDEN_INIT_BIAS
    )


def test_training_only_the_hidden_row_leaves_every_other_weight_as_the_parent_had_it(tmp_path: Path) -> None:
    data, init = _occluded_shards_and_a_parent(tmp_path)
    out = tmp_path / "reader.onnx"
    args = f"--minutes 0.3 --batch 8 --warmup 1 --log-every 3 --val-size 8 --threads 1 --lr 0.1 --init {init}"
    base = ["--data", str(data), "--out", str(out), *shlex.split(args)]
    with pytest.raises(SystemExit):  # it needs the class it trains
        train_reader.main([*base, "--only-hidden"])
    assert train_reader.main([*base, "--hidden-class", "--only-hidden"]) == 0
    parent = train_reader.with_hidden_class(torch.load(init))
    written = torch.load(out.with_suffix(".pt"))
    for k, v in parent.items():
        if k.startswith("head."):
            torch.testing.assert_close(written[k][:-1], v[:-1], rtol=0, atol=0)
            assert not torch.equal(written[k][-1], v[-1])  # the hidden row trained
        else:  # weights, and batch-norm statistics too (the network ran in evaluation mode)
            torch.testing.assert_close(written[k], v, rtol=0, atol=0)
