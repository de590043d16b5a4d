#!/usr/bin/env bash
# Prepares .gpu/ on the development machine for bench/gpu/gpu-check.sh (see README.md there):
#  - whisper.cpp sources that include the CUDA headers: the copy inside the nodejs-whisper npm package
#    (smart-whisper's copy lacks ggml-cuda/*.cuh), configured here with cmake -DGGML_CUDA=ON against
#    stand-in cuBLAS paths; the compile and link commands are carried, not the objects
#  - smart-whisper's binding compiled against those headers (a drop-in for its node-gyp build)
#  - production node_modules and a Node binary
#  - dist/ and build/test-support/ (the generated test model's writer) in the checkout, carried with .gpu/
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PREP=/tmp/gpuprep
NW_VERSION=${NW_VERSION:-0.3.1}
mkdir -p "$ROOT/.gpu" "$PREP"
cd "$PREP"
if [ ! -d whisper.cpp ]; then
  npm pack "nodejs-whisper@$NW_VERSION" >/dev/null
  tar xzf "nodejs-whisper-$NW_VERSION.tgz" package/cpp/whisper.cpp
  mv package/cpp/whisper.cpp whisper.cpp && rm -rf package
fi
mkdir -p fakecuda/include fakecuda/lib
echo "// configure-time stand-in; the real header is on the GPU machine" > fakecuda/include/cublas_v2.h
for l in libcublas.so libcublasLt.so libcuda.so; do echo "" | gcc -x c -shared -o "fakecuda/lib/$l" -; done
rm -rf build-cuda
cmake -S whisper.cpp -B build-cuda -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DGGML_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DGGML_NATIVE=ON \
  -DWHISPER_BUILD_TESTS=OFF -DWHISPER_BUILD_EXAMPLES=ON -DWHISPER_SDL2=OFF -DWHISPER_CURL=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCUDA_cublas_LIBRARY="$PREP/fakecuda/lib/libcublas.so" -DCUDA_cublasLt_LIBRARY="$PREP/fakecuda/lib/libcublasLt.so" \
  -DCUDA_cuda_driver_LIBRARY="$PREP/fakecuda/lib/libcuda.so" >/dev/null
tar -C / -cJf "$ROOT/.gpu/whisper-cuda.tar.xz" --exclude=bindings --exclude=models --exclude='*.wav' --exclude=.git \
  tmp/gpuprep/whisper.cpp tmp/gpuprep/build-cuda

# the binding, against the same headers (one field was renamed since smart-whisper's copy: suppress_non_speech_tokens -> suppress_nst)
SW=$ROOT/node_modules/smart-whisper
rm -rf "$ROOT/.gpu/binding-cuda" && mkdir -p "$ROOT/.gpu/binding-cuda"
# (the same default-initialised context params that scripts/build-engine.mjs patches in)
mkdir -p "$PREP/binding-src" && cp "$SW"/src/binding/*.cc "$SW"/src/binding/*.h "$PREP/binding-src/"
sed -i 's/^    whisper_context_params params;$/    whisper_context_params params = whisper_context_default_params();/' "$PREP/binding-src/model.cc"
for f in binding common model transcribe; do
  g++ -c -fPIC -O3 -std=gnu++17 -pthread -DNODE_GYP_MODULE_NAME=smart-whisper -DBUILDING_NODE_EXTENSION -D_GLIBCXX_USE_CXX11_ABI=1 -Dsuppress_non_speech_tokens=suppress_nst \
    -I/usr/include/node -I"$ROOT/node_modules/node-addon-api" -I"$PREP/whisper.cpp/include" -I"$PREP/whisper.cpp/ggml/include" \
    "$PREP/binding-src/$f.cc" -o "$ROOT/.gpu/binding-cuda/$f.o"
done

# production node_modules (no dev dependencies, no whisper.cpp sources)
rm -rf /tmp/gpunm && mkdir -p /tmp/gpunm
cp "$ROOT/package.json" "$ROOT/package-lock.json" /tmp/gpunm/
cp -a "$ROOT/node_modules" /tmp/gpunm/node_modules
(cd /tmp/gpunm && npm prune --omit=dev --ignore-scripts >/dev/null 2>&1)
rm -rf /tmp/gpunm/node_modules/smart-whisper/whisper.cpp /tmp/gpunm/node_modules/smart-whisper/build/Release/obj.target
tar -C /tmp/gpunm -cJf "$ROOT/.gpu/node_modules.tar.xz" node_modules
[ -f "$ROOT/.gpu/node.xz" ] || xz -9 -c "$(command -v node)" > "$ROOT/.gpu/node.xz"
(cd "$ROOT" && npm run --silent build && npm run --silent build:support)
du -sh "$ROOT"/.gpu/*
