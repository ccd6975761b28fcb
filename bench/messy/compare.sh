#!/bin/sh
# Side-by-side run of issue 15: kiln and PyTorch's seed CNN, 3 epochs each,
# on the messy folder that make_messy.py builds. kiln reads OUT/messy (and
# skips and names the broken files); PyTorch reads OUT/clean (the same good
# files, less the GIFs torchvision does not read). kiln runs on OUT/messy by
# default (the 16-bit rule) and with --decode pil (Pillow's conversion), and
# on OUT/clean with seeds 0, 1 and 2: the same images PyTorch sees. Then
# kiln's per-kind test accuracy of its default run (kind = the file's format
# and mode, from its name).
#
# usage: bench/messy/compare.sh OUT [KILN] [SEED_PYTORCH]
#   KILN: a kiln binary (default: go build ./cmd/kiln into OUT)
#   SEED_PYTORCH: default /work/shared/bench/seed_pytorch.py
# Takes minutes of CPU; prints one summary line per run at the end.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
kiln=${2:-}
ref=${3:-/work/shared/bench/seed_pytorch.py}
py=/usr/bin/python3
if [ -z "$kiln" ]; then
	(cd "$here/../.." && go build -o "$out/kiln" ./cmd/kiln)
	kiln=$out/kiln
fi
[ -d "$out/messy" ] || $py "$here/make_messy.py" "$out"

for mode in view pil; do
	rm -rf "$out/runs/$mode"
	/usr/bin/time -f "kiln $mode: %e s wall" "$kiln" train --data "$out/messy" --model seed-cnn --epochs 3 \
		--val-split 0 --seed 0 --decode "$mode" --out "$out/runs" --name "$mode" >"$out/kiln-$mode.log" 2>&1
done
for seed in 0 1 2; do
	rm -rf "$out/runs/clean$seed"
	/usr/bin/time -f "kiln clean$seed: %e s wall" "$kiln" train --data "$out/clean" --model seed-cnn --epochs 3 \
		--val-split 0 --seed $seed --out "$out/runs" --name "clean$seed" >"$out/kiln-clean$seed.log" 2>&1
done
/usr/bin/time -f "pytorch: %e s wall" $py "$ref" "$out/clean" --epochs 3 --threads 2 >"$out/pytorch.log" 2>&1

# kiln's per-kind accuracy on the test split, by its default run.
find "$out/messy/test" -type f ! -name 'zz_*' | sort >"$out/test-files.txt"
xargs "$kiln" predict "$out/runs/view" --top-k 1 --json <"$out/test-files.txt" >"$out/predict-view.json"
$py - "$out/predict-view.json" <<'EOF'
import collections, json, os, sys
right, total = collections.Counter(), collections.Counter()
text, dec, preds, i = open(sys.argv[1]).read(), json.JSONDecoder(), [], 0
while text[i:].strip():  # xargs may have run predict more than once: one array each
    i += len(text[i:]) - len(text[i:].lstrip())
    arr, i = dec.raw_decode(text, i)
    preds += arr
for p in preds:
    kind = os.path.splitext(os.path.basename(p["file"]))[0].split("_", 1)[1]
    truth = os.path.basename(os.path.dirname(p["file"]))
    total[kind] += 1
    right[kind] += p["predictions"][0]["class"] == truth
print("kiln (view) per kind: " + ", ".join("%s %d/%d" % (k, right[k], total[k]) for k in sorted(total)))
EOF
for mode in view pil clean0 clean1 clean2; do
	printf 'kiln %s: ' "$mode"
	head -1 "$out/runs/$mode/test_report.txt"
	grep 's wall' "$out/kiln-$mode.log"
done
printf 'pytorch: '
grep '^{' "$out/pytorch.log"
grep 's wall' "$out/pytorch.log"
