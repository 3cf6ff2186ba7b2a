#!/usr/bin/env bash
# Re-makes the README's before/after pictures with the CLI and the embedded defaults.
# Run from the repository root after `make install-test` (scikit-image provides the photo).
set -euo pipefail
out=docs/examples
mkdir -p "$out"
.venv/bin/python -c "from skimage import data; from PIL import Image; Image.fromarray(data.coffee()).save('$out/before.png')"
# The photo has no plain background: a box hint around the cup and saucer guides GrabCut.
.venv/bin/sceneshop segment "$out/before.png" --box 40,20,560,390 -o "$out/mask.png"
i=0
while IFS='|' read -r name request; do
  .venv/bin/sceneshop generate "$request" --image "$out/before.png" --mask "$out/mask.png" \
    -o "$out/$name.png" --recipe-out "$out/$name.json" 2>/dev/null
done <<'LIST'
beach-sunset|put this cup on a beach at sunset
marble|on a marble countertop with soft window light
city-night|city street at night with neon signs
festive|festive christmas scene with fairy lights
LIST
