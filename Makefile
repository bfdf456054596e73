# plate-edge developer entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= cpu,dev,train
# Interpreter that creates the venv: the first of these that runs and is Python >= 3.11.
PYTHON_CANDIDATES ?= python3.11 python3
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS='-m "not slow" -x'`.
PYTEST_ARGS ?=
STAMP := $(VENV)/.installed-stamp

.PHONY: venv sysdeps test lint clean distclean

## venv: create .venv (if missing) and install the package editable with its extras; redone when pyproject.toml changes
venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
		bootstrap=""; \
		for candidate in $(PYTHON_CANDIDATES); do \
			if "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then \
				bootstrap="$$candidate"; break; \
			fi; \
		done; \
		if [ -z "$$bootstrap" ]; then echo "make venv: no Python >= 3.11 among: $(PYTHON_CANDIDATES)" >&2; exit 1; fi; \
		echo "make venv: creating $(VENV) with $$(command -v $$bootstrap) ($$($$bootstrap --version))"; \
		"$$bootstrap" -m venv "$(VENV)"; \
	fi
	PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 $(PY) -m pip install -q -e '.[$(EXTRAS)]'
	@touch "$@"

## sysdeps: install the Debian packages the tests need (only the missing ones; sudo when not root)
sysdeps:
	bash scripts/sysdeps.sh

## test: everything pytest collects under tests/; "no tests collected" (exit 5) is a failure
test: sysdeps venv
	@rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit "$$rc"

## lint: ruff (lint and format check) and mypy --strict (configured in pyproject.toml) on the package
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy edge

## demo: the gate daemon on the bundled clip: starts mosquitto and an RTSP server playing demo/gate.mp4,
##       runs `plate-edge run` on it and prints the MQTT events as they arrive (DEMO_SECONDS=60)
demo: sysdeps venv
	bash scripts/demo.sh

## demo-images: analyse the bundled sample images with the shipped models; prints the analysis JSON,
##       writes build/demo/analysis.json and the annotated images to build/demo/
demo-images: sysdeps venv
	@mkdir -p build/demo
	$(VENV)/bin/plate-edge analyze demo/ --json build/demo/analysis.json --draw build/demo/
	@echo "demo: annotated images and analysis.json are in build/demo/"

# --- models: rebuild every shipped model from scratch (CPU: about 8 hours; never run in CI) -----------
READER_SEED ?= 3
READER_MINUTES ?= 80
READER_TUNE_MINUTES ?= 90
READER_PLATES ?= 200000
READER_TUNE_SEED ?= 5
READER_TUNE_PLATES ?= 60000
READER_FOCUS_MINUTES ?= 60
READER_TUNE2_SEED ?= 6
READER_TUNE2_PLATES ?= 60000
READER_TUNE2_MINUTES ?= 45
READER_TUNE6_SEED ?= 2
READER_TUNE6_PLATES ?= 90000
READER_TUNE6_MINUTES ?= 45
# stages six and seven draw their own data while they train (models/training/reader_stage.py); they ran
# on one H100 with 16 cores (14 and 15 generator processes): on the CPU box the same minutes see about a
# hundredth of the samples, so give them more (READER_G1_MINUTES, READER_G2_MINUTES) and fewer workers
READER_G1_SEED ?= 61
READER_G1_MINUTES ?= 8.2
READER_G1_WORKERS ?= 14
READER_G2_SEED ?= 62
READER_G2_MINUTES ?= 8.8
READER_G2_WORKERS ?= 15
# stage eight, on the CPU box: data drawn beforehand with the camera's own processing (capture.py:
# edge enhancement, wide dynamic range, interlacing)
READER_CAM_SEED ?= 71
READER_CAM_PLATES ?= 150000
READER_CAM_MINUTES ?= 60
# stage nine, on the CPU box: fresh plates again; the fine-tune averages its own path (weight averaging)
READER_SWA_SEED ?= 72
READER_SWA_PLATES ?= 150000
READER_SWA_MINUTES ?= 60
LOCATOR_SEED ?= 2
LOCATOR_MINUTES ?= 60
LOCATOR_PLATES ?= 30000
LOCATOR_TUNE_SEED ?= 4
LOCATOR_TUNE_MINUTES ?= 35
LOCATOR_TUNE_PLATES ?= 40000
LOCATOR_LOOSE_PLATES ?= 16000
LOCATOR_LOOSE_MINUTES ?= 30
# stage 4 (locator v4): plates turned by up to 30 degrees, from v3's ONNX with its batch norms frozen
LOCATOR_ROLL_SEED ?= 6
LOCATOR_ROLL_PLATES ?= 24000
LOCATOR_ROLL_LOOSE ?= 8000
LOCATOR_ROLL_MINUTES ?= 25
TESTSET_SEED ?= 9001
TESTSET_PLATES ?= 4500
CALIBSET_SEED ?= 9101
TESTSET_LOOSE_SEED ?= 9201
TESTSET_LOOSE_PLATES ?= 1500
CALIBSET_PLATES ?= 3000
TESTSET_UNSEEN_SEED ?= 9401
TESTSET_UNSEEN_PLATES ?= 1500
TESTSET_BUILT_SEED ?= 9601
TESTSET_BUILT_PLATES ?= 600
READER_VARIED_SEED ?= 74
READER_VARIED_PLATES ?= 80000
READER_BUILT_SEED ?= 75
READER_BUILT_PLATES ?= 60000
READER_LETTERS_SEED ?= 76
READER_LETTERS_PLATES ?= 60000
READER_LETTERS_MINUTES ?= 50
READER_LETTERS2_SEED ?= 77
READER_HIEUT_SEED ?= 79
READER_HIEUT_PLATES ?= 30000
READER_DIGITS_SEED ?= 78
READER_DIGITS_PLATES ?= 60000
READER_DIGITS_MINUTES ?= 50
READER_OCCLUDE_SEED ?= 85
READER_OCCLUDE_PLATES ?= 20000
READER_HIDDEN_SEED ?= 86
READER_HIDDEN_MINUTES ?= 14
# the thirteenth stage: plates half of them filmed through H.264 (video_codec.py), a fifth with an occluder
READER_VIDEO_SEED ?= 87
READER_VIDEO_PLATES ?= 50000
READER_VIDEO_MINUTES ?= 45
# the wiped-characters experiment (HISTORY: not shipped): plates drawn wiped out in part, labelled hidden
READER_WIPED_SEED ?= 89
READER_WIPED_PLATES ?= 20000
# the fourteenth stage: the thirteenth's plates drawn in the fonts of many more families (built-many)
READER_MANY_SEED ?= 91
READER_MANY_PLATES ?= 60000
READER_MANY_MINUTES ?= 50
TESTSET_OCCLUDED_SEED ?= 9651
TESTSET_OCCLUDED_PLATES ?= 600
# a person's judgement of each of the shipped reader's misreads (illegible / borderline / legible), per set
AUDIT ?= models/audits/reader-v13
# five stages: from scratch (warm-up, plateau hold, decay), a second cosine from a lower peak, a third on
# build/reader-tune (region-name plates oversampled, half the areas cut by the shipped locator), a
# fourth, shorter and from a lower peak, on build/reader-tune2 (the same plus as many new plates again),
# a fifth on build/reader-tune6 (all of that plus 90,000 plates drawn with the two-line region names
# at their real size; in a rebuild from scratch every stage's data already has them), then two stages
# that draw fresh plates as they train, batch 1024, with shift/scale jitter: the first taught v5 the
# reader margin (edge.areas.READ_MARGIN; in a rebuild every stage already has it), the second is v6;
# the eighth, on the CPU again, fine-tunes v6 on fresh plates filmed with the camera's own processing,
# and v7 is the mean of the weights of v6 and that fine-tune (models/training/average_reader.py); the
# ninth fine-tunes v7 on fresh plates, averaging the weights along its path from a quarter of its budget
# on (train_reader --swa-start), and v8 is the mean of v7 and that average; the tenth fine-tunes v8 the
# same way on plates half of which have their class letter built from strokes (hangul_strokes.py), and
# v9 is v8 weighted 2:1 with that average (models/reader.pt named twice); the eleventh fine-tunes v9 the
# same way on plates half of which have their digits built from strokes (digit_strokes.py), and v10 is v9
# weighted 2:1 with that average; v11 is v10 with a hidden class (a character behind an occluder) whose row
# of the head alone was trained, on those plates and a third as many again with occluders
# (train_reader --only-hidden: every other weight stays v10's); the thirteenth fine-tunes v11 whole, the
# hidden class with it, on plates half of which were filmed through H.264 and a fifth occluded
# (reader-video-data), and v12 is v11 weighted 2:1 with its average; the fourteenth fine-tunes v12 whole
# on the same kind of plates drawn in the fonts of eleven more Hangul families and ten more digit faces
# (reader-many-data), and v13 is v12 weighted 2:1 with its average
READER_CMD = $(PY) -m models.training.train_reader --data build/reader-data --minutes $(READER_MINUTES) --out models/reader.onnx --seed $(READER_SEED) \
	&& $(PY) -m models.training.train_reader --data build/reader-data --minutes $(READER_TUNE_MINUTES) --out models/reader.onnx --seed $(READER_SEED) --init models/reader.pt --lr 1e-3 \
	&& $(PY) -m models.training.train_reader --data build/reader-tune --minutes $(READER_FOCUS_MINUTES) --out models/reader.onnx --seed $(READER_TUNE_SEED) --init models/reader.pt --lr 7e-4 \
	&& $(PY) -m models.training.train_reader --data build/reader-tune2 --minutes $(READER_TUNE2_MINUTES) --out models/reader.onnx --seed $(READER_TUNE2_SEED) --init models/reader.pt --lr 5e-4 \
	&& $(PY) -m models.training.train_reader --data build/reader-tune6 --minutes $(READER_TUNE6_MINUTES) --out models/reader.onnx --seed $(READER_TUNE6_SEED) --init models/reader.pt --lr 4e-4 \
	&& $(PY) -m models.training.reader_stage --data build/reader-g1 --plates 2000000 --seed $(READER_G1_SEED) --focus 0.35 --workers $(READER_G1_WORKERS) -- --minutes $(READER_G1_MINUTES) --out models/reader.onnx --init models/reader.pt --lr 1.2e-3 --batch 1024 --log-every 300 --reload-every 200 --jitter 0.03 --threads 2 --val-size 3000 \
	&& $(PY) -m models.training.reader_stage --data build/reader-g2 --plates 2000000 --seed $(READER_G2_SEED) --focus 0.5 --workers $(READER_G2_WORKERS) -- --minutes $(READER_G2_MINUTES) --out models/reader.onnx --init models/reader.pt --lr 6e-4 --batch 1024 --log-every 500 --reload-every 200 --jitter 0.03 --threads 1 --val-size 3000 \
	&& $(PY) -m models.training.train_reader --data build/reader-cam --minutes $(READER_CAM_MINUTES) --out build/reader-cam/reader.onnx --seed $(READER_CAM_SEED) --init models/reader.pt --lr 4e-4 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt build/reader-cam/reader.pt \
	&& $(PY) -m models.training.train_reader --data build/reader-swa --minutes $(READER_SWA_MINUTES) --out build/reader-swa/reader.onnx --seed $(READER_SWA_SEED) --init models/reader.pt --lr 4e-4 --swa-start 0.25 --swa-lr 2e-4 --swa-every 100 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt build/reader-swa/reader.pt \
	&& $(PY) -m models.training.train_reader --data build/reader-letters --minutes $(READER_LETTERS_MINUTES) --out build/reader-letters/reader.onnx --seed $(READER_LETTERS_SEED) --init models/reader.pt --lr 3e-4 --swa-start 0.25 --swa-lr 1.5e-4 --swa-every 100 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt models/reader.pt build/reader-letters/reader.pt \
	&& $(PY) -m models.training.train_reader --data build/reader-digits --minutes $(READER_DIGITS_MINUTES) --out build/reader-digits/reader.onnx --seed $(READER_DIGITS_SEED) --init models/reader.pt --lr 3e-4 --swa-start 0.25 --swa-lr 1.5e-4 --swa-every 100 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt models/reader.pt build/reader-digits/reader.pt \
	&& $(PY) -m models.training.train_reader --data build/reader-occlude --minutes $(READER_HIDDEN_MINUTES) --out models/reader.onnx --seed $(READER_HIDDEN_SEED) --init models/reader.pt --hidden-class --only-hidden --lr 3e-3 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.train_reader --data build/reader-video --minutes $(READER_VIDEO_MINUTES) --out build/reader-video/reader.onnx --seed $(READER_VIDEO_SEED) --init models/reader.pt --hidden-class --lr 3e-4 --swa-start 0.25 --swa-lr 1.5e-4 --swa-every 100 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt models/reader.pt build/reader-video/reader.pt \
	&& $(PY) -m models.training.train_reader --data build/reader-many --minutes $(READER_MANY_MINUTES) --out build/reader-many/reader.onnx --seed $(READER_MANY_SEED) --init models/reader.pt --hidden-class --lr 3e-4 --swa-start 0.25 --swa-lr 1.5e-4 --swa-every 100 --jitter 0.03 --threads 2 --log-every 300 \
	&& $(PY) -m models.training.average_reader --out models/reader.onnx models/reader.pt models/reader.pt build/reader-many/reader.pt
DETECTOR_SEED ?= 3
DETECTOR_MINUTES ?= 60
DETECTOR_FRAMES ?= 10000
SCENES_SEED ?= 7001
SCENES_N ?= 300
DETECTOR_CMD = $(PY) -m models.training.train_detector --frames $(DETECTOR_FRAMES) --minutes $(DETECTOR_MINUTES) --out models/detector.onnx --seed $(DETECTOR_SEED)
# three stages: then new data (seed 4, each plate also cut the way the locator's second look cuts it),
# then the same data plus loose crops (plates filmed with half the car around them) from a lower peak
LOCATOR_CMD = $(PY) -m models.training.train_locator --plates $(LOCATOR_PLATES) --minutes $(LOCATOR_MINUTES) --out models/locator.onnx --seed $(LOCATOR_SEED) \
	&& $(PY) -m models.training.train_locator --plates $(LOCATOR_TUNE_PLATES) --minutes $(LOCATOR_TUNE_MINUTES) --out models/locator.onnx --seed $(LOCATOR_TUNE_SEED) --init models/locator.pt --lr 1e-3 --threads 2 --workers 2 \
	&& $(PY) -m models.training.train_locator --plates $(LOCATOR_TUNE_PLATES) --loose $(LOCATOR_LOOSE_PLATES) --minutes $(LOCATOR_LOOSE_MINUTES) --out models/locator.onnx --seed $(LOCATOR_TUNE_SEED) --init models/locator.pt --lr 5e-4 --threads 2 --workers 2 \
	&& $(PY) -m models.training.train_locator --plates $(LOCATOR_ROLL_PLATES) --loose $(LOCATOR_ROLL_LOOSE) --roll 30 --minutes $(LOCATOR_ROLL_MINUTES) --out models/locator.onnx --seed $(LOCATOR_ROLL_SEED) --init models/locator.onnx --lr 5e-4 --threads 2 --workers 2

# says whether a set drawn here is the draw the shipped figures were measured on (models/testsets.json)
PROVENANCE_CHECK = $(PY) -m models.training.provenance check
# the number of misreads in an eval failures CSV (its one argument) reported at confidence >= 0.95
SURE_MISREADS = $(PY) -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1],encoding='utf-8'))); print('sure misreads:', sum(float(x['confidence'])>=0.95 for x in r))"

.PHONY: demo demo-images models reader-data reader-tune-data reader-tune2-data reader-tune6-data reader-cam-data reader-swa-data reader-varied-data reader-built-data reader-letters-data reader-hieut-data reader-digits-data reader-occlude-data reader-video-data reader-wiped-data reader-many-data reader-pt reader-int8 testset testset-loose testset-unseen testset-built testset-occluded testsets-check audit-score probes-turned probes-light probes-crops probes-codec calibset reader locator detector scenes eval-scenes eval-synthetic contact-sheet

## reader-data: synthetic reader shards in build/reader-data (resumable)
reader-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-data --plates $(READER_PLATES) --seed $(READER_SEED)

## reader-tune-data: the third stage's data in build/reader-tune: 12 shards of reader-data (the first is
##       the validation shard) and READER_TUNE_PLATES new plates, half with region names, half of them cut
##       from the quads models/locator.onnx finds (so train the locator first)
reader-tune-data: reader-data
	@mkdir -p build/reader-tune
	for i in $$(seq 0 11); do ln -sf ../reader-data/shard-$$(( $(READER_SEED) * 100000 + i )).npz build/reader-tune/; done
	$(PY) -m models.training.dataset shards --out build/reader-tune --plates $(READER_TUNE_PLATES) --seed $(READER_TUNE_SEED) --focus 0.5 --locator models

# $(call LINK_SHARDS,FROM,TO): link every shard of FROM into TO (a later stage trains on its data too)
LINK_SHARDS = for f in $(1)/shard-*.npz; do ln -sf ../$(notdir $(1))/$$(basename $$f) $(2)/; done

## reader-tune2-data: the fourth stage's data in build/reader-tune2: every shard of build/reader-tune and
##       READER_TUNE2_PLATES new plates drawn the same way (seed READER_TUNE2_SEED)
reader-tune2-data: reader-tune-data
	@mkdir -p build/reader-tune2
	$(call LINK_SHARDS,build/reader-tune,build/reader-tune2)
	$(PY) -m models.training.dataset shards --out build/reader-tune2 --plates $(READER_TUNE2_PLATES) --seed $(READER_TUNE2_SEED) --focus 0.5 --locator models

## reader-tune6-data: the fifth stage's data in build/reader-tune6: every shard of build/reader-tune2 and
##                    90,000 new plates (seed 2, its first shard sorts first and is the validation shard)
reader-tune6-data: reader-tune2-data
	@mkdir -p build/reader-tune6
	$(call LINK_SHARDS,build/reader-tune2,build/reader-tune6)
	$(PY) -m models.training.dataset shards --out build/reader-tune6 --plates $(READER_TUNE6_PLATES) --seed $(READER_TUNE6_SEED) --focus 0.5 --locator models

## testset: the fixed hard synthetic test set (seeded) in build/testset
testset: venv
	$(PY) -m models.training.dataset testset --out build/testset --plates $(TESTSET_PLATES) --seed $(TESTSET_SEED)
	$(PROVENANCE_CHECK) build/testset

## testset-loose: seeded crops with half the car in them (the plate a sixth to a third of the width), in
##                build/testset-loose: what the locator's repeated looks and loose training are for
testset-loose: venv
	$(PY) -m models.training.dataset testset --out build/testset-loose --plates $(TESTSET_LOOSE_PLATES) --seed $(TESTSET_LOOSE_SEED) --loose
	$(PROVENANCE_CHECK) build/testset-loose

## testset-unseen: seeded plates drawn only in typefaces no training set holds (glyphs.UNSEEN_*_FONTS), in
##                 build/testset-unseen: the synthetic stand-in for reading the real plate typeface
testset-unseen: venv
	$(PY) -m models.training.dataset testset --out build/testset-unseen --plates $(TESTSET_UNSEEN_PLATES) --seed $(TESTSET_UNSEEN_SEED) --typefaces unseen
	$(PROVENANCE_CHECK) build/testset-unseen

## probes-turned: the first 400 test plates turned by +-10, 20 and 30 degrees (build/probe-rot10 ...), scored:
##                the README's turned-plate figures (locator v4); needs build/testset (make testset)
probes-turned: venv
	for d in 10 20 30; do \
	  $(PY) -m models.training.probes turned --manifest build/testset/manifest.csv --first 400 --degrees $$d --out build/probe-rot$$d \
	  && $(VENV)/bin/plate-edge eval --manifest build/probe-rot$$d/manifest.csv | tail -1 || exit 1; \
	done

## probes-light: the first 400 test plates at a tenth of their exposure (dim) and a quarter of their
##               contrast (hazy), in build/probe-dim and build/probe-hazy, scored: the README's figures
##               for the contrast lift (edge.contrast); needs build/testset (make testset)
probes-light: venv
	for l in dim hazy; do \
	  $(PY) -m models.training.probes $$l --manifest build/testset/manifest.csv --first 400 --out build/probe-$$l \
	  && $(VENV)/bin/plate-edge eval --manifest build/probe-$$l/manifest.csv | tail -1 || exit 1; \
	done

## probes-crops: the first 400 test plates with a dark bar over a character (occluded) and centred on a black
##               square (letterboxed), in build/probe-occluded and build/probe-letterboxed, scored, with the
##               number of misreads reported sure (>= 0.95): the README's figures; needs build/testset
probes-crops: venv
	for p in occluded letterboxed; do \
	  $(PY) -m models.training.probes $$p --manifest build/testset/manifest.csv --first 400 --out build/probe-$$p \
	  && $(VENV)/bin/plate-edge eval --manifest build/probe-$$p/manifest.csv --failures build/probe-$$p/failures.csv | tail -1 \
	  && $(SURE_MISREADS) build/probe-$$p/failures.csv \
	  || exit 1; \
	done

## probes-codec: the first 400 test plates through H.264 at quantizer 30 / 38 / 44 as key frames and as
##               predicted frames (the plate moved 4 px since the last), and through JPEG at quality 35 / 20
##               / 10 (about the same PSNR, printed), in build/probe-h264-* and build/probe-jpeg-*, scored:
##               the README's codec figures; needs build/testset (make testset)
probes-codec: venv
	for p in "h264 30" "h264 38" "h264 44" "h264 30 4" "h264 38 4" "h264 44 4" "jpeg 35" "jpeg 20" "jpeg 10"; do \
	  set -- $$p; out=build/probe-$$1-$$2$${3:+-moving}; \
	  if [ $$1 = h264 ]; then args="--qp $$2$${3:+ --motion $$3}"; else args="--quality $$2"; fi; \
	  echo "$$1 $$args: $$($(PY) -m models.training.probes $$1 $$args --manifest build/testset/manifest.csv --first 400 --out $$out)" \
	  && $(VENV)/bin/plate-edge eval --manifest $$out/manifest.csv | tail -1 || exit 1; \
	done

## testset-built: seeded plates drawn as the digits stage's data is (built-digits: a quarter of them in the fonts
##                only, the rest with the class letter or the digits or both built from strokes), in
##                build/testset-built: how the reader copes with plate-like digits (a narrow 1) it may not
##                have been trained on
testset-built: venv
	$(PY) -m models.training.dataset testset --out build/testset-built --plates $(TESTSET_BUILT_PLATES) --seed $(TESTSET_BUILT_SEED) --typefaces built-digits
	$(PROVENANCE_CHECK) build/testset-built

## testset-occluded: seeded plates, each with an occluder in front (four in five over a character, one in five
##                   beside the text), labelled with their full text, in build/testset-occluded: what it
##                   measures is how many of them are read wrong and sure (the README's figures)
testset-occluded: venv
	$(PY) -m models.training.dataset testset --out build/testset-occluded --plates $(TESTSET_OCCLUDED_PLATES) --seed $(TESTSET_OCCLUDED_SEED) --occlude 1.0
	$(PROVENANCE_CHECK) build/testset-occluded
	$(VENV)/bin/plate-edge eval --manifest build/testset-occluded/manifest.csv --failures build/testset-occluded/failures.csv | tail -1
	$(SURE_MISREADS) build/testset-occluded/failures.csv

## testsets-check: whether each seeded set in build/ is the draw the shipped figures were measured on
##                 (models/testsets.json); names what differs (a library's version, a font file) when not
testsets-check: venv
	$(PROVENANCE_CHECK) build/testset build/testset-loose build/testset-unseen build/testset-built build/testset-occluded build/calibset

## audit-score: exact match on the plates a person can read, on the test, loose and unseen-typeface sets: the shipped
##              reader's misreads scored against a person's judgement of each (AUDIT-<set>.csv, made on
##              the recorded draws)
audit-score: venv
	for s in testset testset-loose testset-unseen; do \
	  $(VENV)/bin/plate-edge eval --manifest build/$$s/manifest.csv --failures build/$$s/failures.csv | tail -1 \
	  && $(PY) -m models.training.audit --audit $(AUDIT)-$$s.csv --failures build/$$s/failures.csv --manifest build/$$s/manifest.csv \
	  || exit 1; \
	done

## calibset: a second seeded set, only for calibrating the confidence (never scored)
calibset: venv
	$(PY) -m models.training.dataset testset --out build/calibset --plates $(CALIBSET_PLATES) --seed $(CALIBSET_SEED)
	$(PROVENANCE_CHECK) build/calibset

## reader-cam-data: the eighth stage's data in build/reader-cam: READER_CAM_PLATES new plates (seed
##                   READER_CAM_SEED, half with region names, half cut by the shipped locator)
reader-cam-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-cam --plates $(READER_CAM_PLATES) --seed $(READER_CAM_SEED) --focus 0.5 --locator models

## reader-swa-data: the ninth stage's data in build/reader-swa: READER_SWA_PLATES new plates (seed
##                   READER_SWA_SEED, drawn as for the eighth)
reader-swa-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-swa --plates $(READER_SWA_PLATES) --seed $(READER_SWA_SEED) --focus 0.5 --locator models

## reader-varied-data: an experiment's data (not in the shipped reader, see README, Models): READER_VARIED_PLATES
##                      new plates in build/reader-varied (seed READER_VARIED_SEED, drawn as for the ninth
##                      stage, in varied typefaces: more fonts, bent glyphs)
reader-varied-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-varied --plates $(READER_VARIED_PLATES) --seed $(READER_VARIED_SEED) --focus 0.5 --locator models --typefaces varied

## reader-built-data: READER_BUILT_PLATES new plates in build/reader-built (seed READER_BUILT_SEED, 2,500 a
##                    shard), half of them with Hangul built from strokes (models/training/hangul_strokes.py)
reader-built-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-built --plates $(READER_BUILT_PLATES) --seed $(READER_BUILT_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built

## reader-letters-data: READER_LETTERS_PLATES new plates in build/reader-letters (seed READER_LETTERS_SEED),
##                      half with the class letter built from strokes, region names kept in the fonts
reader-letters-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-letters --plates $(READER_LETTERS_PLATES) --seed $(READER_LETTERS_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-letters

## reader-hieut-data: an experiment's data (not in the shipped reader, see README, Models): build/reader-hieut,
##                     the letters stage's plates (linked), READER_HIEUT_PLATES more drawn the same way
##                     (seed READER_LETTERS2_SEED) and as many with ㅎ in more shapes (seed
##                     READER_HIEUT_SEED, --typefaces built-hieut)
reader-hieut-data: reader-letters-data
	$(PY) -m models.training.dataset shards --out build/reader-hieut --plates $(READER_HIEUT_PLATES) --seed $(READER_LETTERS2_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-letters
	$(PY) -m models.training.dataset shards --out build/reader-hieut --plates $(READER_HIEUT_PLATES) --seed $(READER_HIEUT_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-hieut
	ln -sf $(CURDIR)/build/reader-letters/shard-*.npz build/reader-hieut/

## reader-digits-data: READER_DIGITS_PLATES new plates in build/reader-digits (seed READER_DIGITS_SEED),
##                     drawn as for the letters stage and, apart from that, half with the digits built from
##                     strokes (models/training/digit_strokes.py: a narrow flagged 1, curled 6 and 9, ...)
reader-digits-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-digits --plates $(READER_DIGITS_PLATES) --seed $(READER_DIGITS_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-digits

## reader-occlude-data: the hidden class's data in build/reader-occlude: the digits stage's shards and
##                       READER_OCCLUDE_PLATES new plates drawn the same way, each with an occluder in front
##                       (models/training/occluders.py: four in five over a character, labelled hidden)
reader-occlude-data: reader-digits-data
	$(PY) -m models.training.dataset shards --out build/reader-occlude --plates $(READER_OCCLUDE_PLATES) --seed $(READER_OCCLUDE_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-digits --occlude 1.0
	ln -sf $(CURDIR)/build/reader-digits/shard-*.npz build/reader-occlude/

## reader-video-data: READER_VIDEO_PLATES new plates in build/reader-video (seed READER_VIDEO_SEED), drawn as
##                     for the digits stage, half of them filmed through H.264 instead of JPEG (video_codec.py:
##                     quantizer 22-42, a key frame or a frame predicted across the car's motion) and a fifth
##                     with an occluder (four in five over a character, labelled hidden)
reader-video-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-video --plates $(READER_VIDEO_PLATES) --seed $(READER_VIDEO_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-digits --occlude 0.2 --video 0.5

## reader-wiped-data: READER_WIPED_PLATES new plates in build/reader-wiped (seed READER_WIPED_SEED), drawn as
##                     reader-video-data's, each sought among the draws the legibility gate refuses and its
##                     wiped-out characters labelled hidden (legibility.wiped_labels), with every shard of
##                     build/reader-video linked in: the data of the experiment in HISTORY (not shipped)
reader-wiped-data: reader-video-data
	@mkdir -p build/reader-wiped
	$(call LINK_SHARDS,build/reader-video,build/reader-wiped)
	$(PY) -m models.training.dataset shards --out build/reader-wiped --plates $(READER_WIPED_PLATES) --seed $(READER_WIPED_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-digits --occlude 0.2 --video 0.5 --wiped 1.0

## reader-many-data: READER_MANY_PLATES new plates in build/reader-many (seed READER_MANY_SEED), drawn as
##                    reader-video-data's in --typefaces built-many: the fonts of eleven more Hangul
##                    families and ten more digit faces (glyphs.MORE_HANGUL_FONTS, MORE_DIGIT_FONTS)
reader-many-data: venv
	$(PY) -m models.training.dataset shards --out build/reader-many --plates $(READER_MANY_PLATES) --seed $(READER_MANY_SEED) --per-shard 2500 --focus 0.5 --locator models --typefaces built-many --occlude 0.2 --video 0.5

## reader-pt: models/reader.pt, the shipped reader's torch weights that a next stage continues from
##            (--init), rebuilt from models/reader.onnx (the .pt files are not committed); its batch
##            norms are measured on 2,000 fresh plates (build/reader-bn, seed 73)
reader-pt: venv
	$(PY) -m models.training.dataset shards --out build/reader-bn --plates 2000 --seed 73 --focus 0.5 --locator models
	$(PY) -m models.training.reader_from_onnx models/reader.onnx --data build/reader-bn --out models/reader.pt

reader: reader-data reader-tune-data reader-tune2-data reader-tune6-data reader-cam-data reader-swa-data reader-letters-data reader-digits-data reader-occlude-data reader-video-data reader-many-data
	$(READER_CMD)
	$(PY) -m models.training.manifest reader models/reader.onnx --seed $(READER_MANY_SEED) --command "$(subst $(PY) ,python ,$(READER_CMD))"
	$(MAKE) reader-int8

## reader-int8: models/reader.int8.onnx, the reader's convolutions in int8 for CPUs, calibrated on 1,000
##              seeded plates (models/training/quantize_reader.py; half a minute), and its manifest entry
reader-int8: venv
	$(PY) -m models.training.quantize_reader --record

locator: venv
	$(LOCATOR_CMD)
	$(PY) -m models.training.manifest locator models/locator.onnx --seed $(LOCATOR_ROLL_SEED) --command "$(subst $(PY) ,python ,$(LOCATOR_CMD))"

## detector: the own plate detector on synthetic gate scenes (cached in build/detector-data); records its
##           manifest entry (sha256, command, seed, validation recall/precision) itself
detector: venv
	$(DETECTOR_CMD)

## scenes: a seeded synthetic scene set (not the training seed) with its manifest, in build/scenes-test
scenes: venv
	$(PY) -m models.training.scenes --out build/scenes-test --n $(SCENES_N) --seed $(SCENES_SEED)

## eval-scenes: both scene-detector backends on that set, detection and end to end
eval-scenes: scenes
	for b in own text; do \
		$(VENV)/bin/plate-edge eval --manifest build/scenes-test/manifest.csv --task detect --backend $$b; \
		$(VENV)/bin/plate-edge eval --manifest build/scenes-test/manifest.csv --task e2e --backend $$b; \
	done

## eval-synthetic: calibrate the confidence of both reader copies on the calibration set, then score the
##                 test sets (float; the test set with the int8 copy too)
eval-synthetic: testset testset-loose testset-unseen calibset
	$(PY) -m models.training.calibrate --manifest build/calibset/manifest.csv
	$(PY) -m models.training.calibrate --manifest build/calibset/manifest.csv --precision int8
	$(VENV)/bin/plate-edge eval --manifest build/testset/manifest.csv --reader-precision int8 --failures build/testset/failures-int8.csv
	$(VENV)/bin/plate-edge eval --manifest build/testset/manifest.csv --failures build/testset/failures.csv
	$(VENV)/bin/plate-edge eval --manifest build/testset-loose/manifest.csv --failures build/testset-loose/failures.csv
	$(VENV)/bin/plate-edge eval --manifest build/testset-unseen/manifest.csv --failures build/testset-unseen/failures.csv

## contact-sheet: a grid of synthetic samples next to what the reader sees, for comparing with real plates
contact-sheet: venv
	$(PY) -m models.training.dataset sheet --out models/contact_sheet.png --seed 7

## models: everything above, in order
models: locator reader detector eval-synthetic eval-scenes contact-sheet

## clean: caches and build outputs (keeps .venv; `make distclean` removes it too)
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
