#!/usr/bin/env bash
# GPU check, run on a lent GPU machine (no package registry there; see bench/gpu/README.md):
#  1. builds libwhisper.a with GGML_CUDA=1 from the whisper.cpp sources inside smart-whisper and
#     links the addon against it (the link scripts/build-engine.mjs does for SPEECHFLOW_ENGINE_BUILD=cuda);
#  2. runs speechflow over 20 meeting-like files with --device cuda:0 and with --device cpu, and
#     whisper.cpp's own main built with CUDA, on the generated tiny-sized model;
#  3. writes the figures to $OUT/gpu.json and the logs next to it.
# Expects in .gpu/: node.xz (a node binary), node_modules.tar.xz (production node_modules),
# binding/*.o (smart-whisper's compiled binding sources); dist/ built.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
ROOT=$PWD
nvidia-smi -L
nvcc --version | tail -1
unxz() { python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; }
mkdir -p /tmp/nodebin && unxz .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
node --version
unxz .gpu/node_modules.tar.xz | tar -x
SW=$ROOT/node_modules/smart-whisper
W=$SW/whisper.cpp
mkdir -p "$W/scripts" && touch "$W/scripts/get-flags.mk"
CUDA=${CUDA_PATH:-/usr/local/cuda}
t0=$(date +%s)
if ! make -C "$W" -j"$(nproc)" GGML_CUDA=1 CUDA_PATH="$CUDA" libwhisper.a main > "$OUT/build.log" 2>&1; then
  echo "CUDA build failed:"; grep -E "error|Error" "$OUT/build.log" | head -30; exit 1
fi
echo "cuda build: $(( $(date +%s) - t0 )) s"
LIBS="-L$CUDA/lib64 -L$CUDA/targets/x86_64-linux/lib -L$CUDA/lib64/stubs -lcuda -lcublas -lcudart -lcublasLt -lpthread -ldl -lrt"
ls "$CUDA"/lib64/libculibos* >/dev/null 2>&1 && LIBS="$LIBS -lculibos"
mkdir -p "$SW/build/Release"
g++ -shared -o "$SW/build/Release/smart-whisper.node" .gpu/binding/*.o "$W/libwhisper.a" -fopenmp $LIBS || exit 1
echo '{"mode":"cuda","flags":"BYOL libwhisper.a, GGML_CUDA (bench/gpu/gpu-check.sh)"}' > "$SW/build/speechflow-engine.json"
node -e "require('$SW')" || exit 1

mkdir -p /tmp/audio
python3 bench/gpu/make-audio.py /tmp/audio 20 60
node -e 'import("./dist/models/write-test-model.js").then((m) => m.writeTestModel("/tmp/tiny.bin", m.TINY_SIZED_MODEL))'
export SPEECHFLOW_FFMPEG=$ROOT/bench/gpu/fake-ffmpeg.py
chmod +x "$SPEECHFLOW_FFMPEG"

run_sf() { # name, extra args...
  local name=$1; shift
  rm -rf "/tmp/out-$name"
  local s=$(date +%s.%N)
  node bin/speechflow.js transcribe /tmp/audio -o "/tmp/out-$name" -m /tmp/tiny.bin --language en --no-temperature-fallback --formats txt --json "$@" > "$OUT/$name.ndjson" 2> "$OUT/$name.err"
  local rc=$?
  local e=$(date +%s.%N)
  echo "$name rc=$rc wall=$(awk "BEGIN{print $e - $s}")" | tee -a "$OUT/timings.txt"
}
run_wcpp() { # name, args...
  local name=$1; shift
  local s=$(date +%s.%N)
  "$W/main" -m /tmp/tiny.bin -l en -bs 1 -nf -mc 0 -np "$@" $(for f in /tmp/audio/*.wav; do echo -f "$f"; done) > "$OUT/$name.txt" 2> "$OUT/$name.err"
  local rc=$?
  local e=$(date +%s.%N)
  echo "$name rc=$rc wall=$(awk "BEGIN{print $e - $s}")" | tee -a "$OUT/timings.txt"
}
run_sf gpu-1job --device cuda:0
run_sf gpu-4jobs --device cuda:0 --jobs-per-worker 4
run_sf cpu-4x4 --device cpu --workers 4 --threads 4
run_wcpp wcpp-gpu -t 4
run_wcpp wcpp-cpu -t 16
grep -h '"run-end"' "$OUT"/*.ndjson > "$OUT/run-ends.ndjson"
grep -h "whisper_backend_init\|using CUDA\|CUDA0\|ggml_cuda_init" "$OUT"/*.err | sort | uniq -c | head -20
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
