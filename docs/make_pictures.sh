#!/usr/bin/env bash
# Re-makes the README's before/after pictures with the CLI and the embedded defaults.
# Run from the repository root after `make install-test` (scikit-image provides the photo).
set -euo pipefail
out=docs/examples
mkdir -p "$out"
.venv/bin/python -c "from skimage import data; from PIL import Image; Image.fromarray(data.coffee()).save('$out/before.png')"
# The photo has no plain background: a box hint around the cup and saucer guides the cut-out.
.venv/bin/sceneshop segment "$out/before.png" --box 40,20,560,390 -o "$out/mask.png"
while IFS='|' read -r name request; do
  .venv/bin/sceneshop generate "$request" --image "$out/before.png" --mask "$out/mask.png" \
    -o "$out/$name.png" --recipe-out "$out/$name.json" 2>/dev/null
done <<'LIST'
cover|magazine cover with the title STAY HYDRATED, subtitle summer essentials, cover lines: the espresso edit; five cups to try; slow mornings
sale-banner|sale banner with the headline SUMMER SALE, subtitle everything must go, and a -20% badge on marble
marble|on a marble countertop with soft window light
beach-sunset|put this cup on a beach at sunset and match the light
city-night|city street at night with neon signs
LIST
