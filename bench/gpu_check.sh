#!/usr/bin/env bash
# One call on a CUDA machine: what is installed, the diffusion tests on the GPU, the engine bench.
# The machine has torch/transformers/accelerate but no diffusers (and maybe another peft), and no
# network: the missing pure-Python wheels travel in .whl/ (see README of the device tool). Prepare:
#   echo /.whl/ >> .git/info/exclude; mkdir -p .whl && cd .whl && pip download --no-deps
#   --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 -d . diffusers==0.42.1
#   peft==0.21.2 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types typing-inspection
#   typing_extensions importlib_metadata
set -u
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import sys, torch, transformers, huggingface_hub as h; print(sys.version.split()[0], "torch",
torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__, "hub", h.__version__)'
} 2>&1 | tee "$out/env.txt"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
  .whl/*.whl 2>&1 | tail -3 || exit 1
export PYTHONPATH=/tmp/site:$PWD
python3 -c 'import diffusers, peft, pydantic; print("diffusers", diffusers.__version__, "peft", peft.__version__,
"pydantic", pydantic.__version__)' 2>&1 | tee -a "$out/env.txt"

start=$(date +%s)
timeout 240 python3 -m pytest tests/test_diffusion.py -p no:cacheprovider -W ignore::DeprecationWarning \
  -W ignore::FutureWarning -rfE --durations=5 2>&1 | tee "$out/tests.txt" | grep -vE "^\s+(warnings|sigmas)"
echo "tests wall: $(( $(date +%s) - start )) s" | tee -a "$out/tests.txt"

timeout 150 python3 bench/engine.py --device cuda 2>&1 \
  | grep -vE "Warning|warn|Loading|Writing|sigmas|deprecat|^\s*$" | tee "$out/bench.txt"
exit 0
