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

install: $(BIN)/python
	$(BIN)/pip install -e .

install-test: $(BIN)/python
	$(BIN)/pip install -e '.[test]'

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
