#!/usr/bin/env bash
# GPU check, run on a lent GPU machine (no package registry, no cmake, no ffmpeg, no Node there;
# see bench/gpu/README.md). Everything it needs is prepared by bench/gpu/prepare.sh into .gpu/:
#  1. compiles whisper.cpp with CUDA from the carried sources and cmake's compile commands
#     (bench/gpu/build-cuda-engine.py), links smart-whisper's binding against it;
#  2. runs speechflow over 20 meeting-like files with --device cuda:0 and with --device cpu, and
#     whisper.cpp's own whisper-cli from the same build on GPU and CPU, on the tiny-sized model;
#  3. writes timings and logs to $OUT.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
ROOT=$PWD
T0=$(date +%s)
nvidia-smi -L
nvcc --version | tail -1
ldd --version | head -1; nproc; (command -v cmake && cmake --version | head -1) || echo "no cmake"
unxz() { python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; }
mkdir -p /tmp/nodebin && unxz .gpu/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
export PATH=/tmp/nodebin:$PATH
node --version
unxz .gpu/node_modules.tar.xz | tar -x
unxz .gpu/whisper-cuda.tar.xz | tar -x -C /
CUDA=$(dirname "$(dirname "$(readlink -f "$(command -v nvcc)")")")
echo "CUDA root: $CUDA"
B=/tmp/gpuprep/build-cuda
if ! python3 bench/gpu/build-cuda-engine.py "$B" "$CUDA" > "$OUT/build.log" 2>&1; then
  echo "CUDA build failed:"; tail -60 "$OUT/build.log"; exit 1
fi
tail -2 "$OUT/build.log"
echo "build done at +$(( $(date +%s) - T0 )) s"
SW=$ROOT/node_modules/smart-whisper
CUDALIBS="-L$CUDA/lib64 -L$CUDA/lib -L$CUDA/targets/x86_64-linux/lib -L$CUDA/lib64/stubs -lcudart -lcublas -lcublasLt -lcuda -ldl -lrt"
mkdir -p "$SW/build/Release"
g++ -shared -pthread -o "$SW/build/Release/smart-whisper.node" .gpu/binding-cuda/*.o -Wl,--start-group "$B/src/libwhisper.a" "$B/ggml/src/libggml.a" \
  "$B/ggml/src/libggml-cpu.a" "$B/ggml/src/ggml-cuda/libggml-cuda.a" "$B/ggml/src/libggml-base.a" -Wl,--end-group -fopenmp $CUDALIBS 2>&1 | grep -v warning
echo '{"mode":"cuda","flags":"whisper.cpp from nodejs-whisper 0.3.1, GGML_CUDA, sm_90 (bench/gpu/gpu-check.sh)"}' > "$SW/build/speechflow-engine.json"
node -e "require('$SW'); console.log('addon loads')" || exit 1

mkdir -p /tmp/audio
python3 bench/gpu/make-audio.py /tmp/audio 20 60
node -e 'import("./build/test-support/write-test-model.js").then((m) => m.writeTestModel("/tmp/tiny.bin", m.TINY_SIZED_MODEL))'
export SPEECHFLOW_FFMPEG=$ROOT/bench/gpu/fake-ffmpeg.py
chmod +x "$SPEECHFLOW_FFMPEG"

L=/tmp/gpu-logs
mkdir -p $L
run_sf() { # name, extra args...
  local name=$1; shift
  rm -rf "/tmp/out-$name"
  local s=$(date +%s.%N)
  timeout 120 node bin/speechflow.js transcribe /tmp/audio -o "/tmp/out-$name" -m /tmp/tiny.bin --language en --no-temperature-fallback --formats txt --json "$@" > "$L/$name.ndjson" 2> "$L/$name.err"
  local rc=$?
  local e=$(date +%s.%N)
  echo "$name rc=$rc wall=$(awk "BEGIN{print $e - $s}") files=$(ls /tmp/out-$name/*.txt 2>/dev/null | wc -l) chunks=$(grep -c chunk-done $L/$name.ndjson)"
}
run_wcpp() { # name, args...
  local name=$1; shift
  local s=$(date +%s.%N)
  timeout 120 "$B/bin/whisper-cli" -m /tmp/tiny.bin -l en -bs 1 -nf -mc 0 "$@" $(for f in /tmp/audio/*.wav; do echo -f "$f"; done) > "$L/$name.txt" 2> "$L/$name.err"
  local rc=$?
  local e=$(date +%s.%N)
  echo "$name rc=$rc wall=$(awk "BEGIN{print $e - $s}") segments=$(grep -c mebe $L/$name.txt) $(grep -m1 'total time' $L/$name.err | tr -s ' ')"
  grep -m3 -i "CUDA0\|using device\|backend\|flash" $L/$name.err
}
run_sf gpu-1job --device cuda:0
run_sf gpu-4jobs --device cuda:0 --jobs-per-worker 4
run_sf gpu-8jobs --device cuda:0 --jobs-per-worker 8
run_sf cpu-4x4 --device cpu --workers 4 --threads 4
run_sf cpu-8x2 --device cpu --workers 8 --threads 2
run_wcpp wcpp-gpu -t 4
run_wcpp wcpp-cpu -ng -t 16
# the GPU must write what the CPU writes (the generated model decodes to fixed tokens)
diff -rq /tmp/out-gpu-1job /tmp/out-cpu-4x4 -x .speechflow -x manifest.jsonl && echo "gpu and cpu transcripts identical"
grep -h '"run-end"' $L/*.ndjson | cut -c1-200
grep -h '"engine-ready"' $L/*.ndjson
grep -h "CUDA0\|ggml_cuda_init\|compute capability" $L/*.err | sort | uniq -c | head -10
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
echo "total +$(( $(date +%s) - T0 )) s"
