"""The trained models, for integration tests that must run the real thing.

`require_models` fails (never skips) with a message saying what is missing: a test that silently skips
when the models are absent would report green on a box that cannot read a plate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.runtime import DEFAULT_MODELS_DIR, ModelError, load_manifest

REQUIRED = ("reader", "locator", "detector")


def require_models(models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """``models_dir`` when its manifest lists every model in `REQUIRED` and their files exist; else fail."""
    try:
        manifest = load_manifest(models_dir)
    except ModelError as e:
        pytest.fail(f"real models needed: {e} (train them with models/training, see README)", pytrace=False)
    problems = [
        f"no '{name}' entry in {models_dir / 'manifest.json'}" for name in REQUIRED if name not in manifest
    ]
    problems += [f"missing model file {e.file}" for e in manifest.values() if not e.file.is_file()]
    if problems:
        pytest.fail("real models needed: " + "; ".join(problems), pytrace=False)
    try:
        import edge.text_detector as td

        td.bundled_model_entry()
    except (ImportError, ModelError) as e:
        pytest.fail(f"the text detector's model is needed: {e}", pytrace=False)
    return models_dir
