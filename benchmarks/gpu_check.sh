#!/usr/bin/env bash
# One prepared run on a GPU machine (the `device` tool's H200): the CUDA tests, every piece's
# cost on cuda (benchmarks/pieces.py), eager vs compiled sampling (CUDA graphs), then a slice
# of the `paper` preset long enough to time whole adversarial iterations. Run from the
# repository root; writes logs under $OUT (or ./gpu_out).
set -uo pipefail
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"
echo "== CUDA tests"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_rollout.py tests/test_generator.py 2>&1 | tail -15 | tee "$OUT/tests.txt"
echo "== pieces on cuda"
timeout 210 python3 benchmarks/pieces.py --device cuda 2>&1 | tee "$OUT/pieces_cuda.txt"
echo "== train.compile on cuda"
timeout 90 python3 benchmarks/compile.py --device cuda --mode reduce-overhead --quick 2>&1 | tail -8 | tee "$OUT/compile_cuda.txt"
echo "== paper preset slice on cuda"
timeout 130 python3 -m seqgan train --preset paper --device cuda -q --out "$OUT/paper_slice" \
  --set pretrain.generator_epochs=2 --set pretrain.discriminator_rounds=1 --set adversarial.iterations=3 \
  --set train.eval_every=1 --set train.checkpoint_every=0 2>&1 | tail -5
python3 - "$OUT/paper_slice/metrics.jsonl" <<'PY' 2>&1 | tee "$OUT/paper_slice.txt"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()})
PY
rm -rf "$OUT/paper_slice"  # what comes back stays small: the table above holds its metrics
