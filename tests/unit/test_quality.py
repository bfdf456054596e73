"""Crop quality: sharp beats blurred, big beats small, well exposed beats burnt; BestK keeps the best."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.quality import BestK, crop_quality, exposure_factor, sharpness


def plate_image(width: int = 300, blur: float = 0.0, gain: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    h = width // 4
    img = np.full((h + 40, width + 40, 3), 120, np.uint8)
    plate = np.full((h, width, 3), 235, np.uint8)
    cv2.putText(
        plate, "12 3456", (8, int(h * 0.8)), cv2.FONT_HERSHEY_SIMPLEX, h / 40, (20, 20, 20), max(1, h // 15)
    )
    img[20 : 20 + h, 20 : 20 + width] = plate
    if blur:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
    quad = np.array([[20, 20], [20 + width, 20], [20 + width, 20 + h], [20, 20 + h]], np.float32)
    return img, quad


@pytest.mark.parametrize("blur", [1.5, 3.0, 6.0])
def test_blur_lowers_sharpness_and_score(blur: float) -> None:
    sharp_img, quad = plate_image()
    blurred_img, _ = plate_image(blur=blur)
    assert crop_quality(blurred_img, quad).score < crop_quality(sharp_img, quad).score
    assert sharpness(cv2.cvtColor(blurred_img, cv2.COLOR_BGR2GRAY)) < sharpness(
        cv2.cvtColor(sharp_img, cv2.COLOR_BGR2GRAY)
    )


def test_sharpness_is_normalised_for_size() -> None:
    big, qb = plate_image(600)
    small, qs = plate_image(150)
    ratio = crop_quality(big, qb).sharpness / crop_quality(small, qs).sharpness
    assert 0.3 < ratio < 3.0  # same plate, 4x the pixels: comparable sharpness


def test_bigger_plate_scores_higher_until_it_saturates() -> None:
    scores = [crop_quality(*plate_image(w)).score for w in (60, 120, 300)]
    assert scores[0] < scores[1] <= scores[2] * 1.05


@pytest.mark.parametrize(("gain", "worse"), [(0.15, True), (3.0, True), (1.0, False)])
def test_exposure(gain: float, worse: bool) -> None:
    img, _quad = plate_image(gain=gain)
    normal = exposure_factor(cv2.cvtColor(plate_image()[0], cv2.COLOR_BGR2GRAY))
    value = exposure_factor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    assert (value < normal * 0.8) is worse


def test_detection_confidence_and_empty_crops() -> None:
    img, quad = plate_image()
    assert crop_quality(img, quad, 0.3).score < crop_quality(img, quad, 0.9).score
    outside = quad + 10_000
    assert crop_quality(img, outside).score == 0.0


def test_best_k_keeps_the_top_k() -> None:
    best: BestK[str] = BestK(3)
    for score, item in [(0.5, "a"), (0.9, "b"), (0.1, "c"), (0.7, "d"), (0.95, "e")]:
        best.offer(score, item)
    assert best.items() == ["e", "b", "d"]
    assert best.best() == "e" and len(best) == 3
    assert not best.would_keep(0.6) and best.would_keep(0.8)
    with pytest.raises(ValueError):
        BestK(0)
