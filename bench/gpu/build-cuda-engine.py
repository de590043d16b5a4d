#!/usr/bin/env python3
"""Builds whisper.cpp with CUDA on a GPU machine that has nvcc and cuBLAS but no cmake.

The build is planned on the development machine (bench/gpu/prepare.sh): cmake configures the
whisper.cpp sources with -DGGML_CUDA=ON and exports compile_commands.json and the link.txt files
(cuBLAS is not installed there, so stand-in paths are used at configure time). Here we only run
those commands: compiles in parallel, then the archive and link steps, with the CUDA paths of
this machine put in place of the stand-ins.

usage: build-cuda-engine.py BUILD_DIR CUDA_ROOT [TARGET ...]
"""
import json, os, re, shlex, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

build, cuda = sys.argv[1], sys.argv[2]
targets = sys.argv[3:] or ["ggml-base", "ggml", "ggml-cpu", "ggml-cuda", "whisper", "common", "whisper-cli"]
PLANNED_CUDA = "/usr/local/cuda-13.0"
FAKE = "/tmp/gpuprep/fakecuda/lib/"


def fix(cmd: str) -> str:
    cmd = cmd.replace(PLANNED_CUDA, cuda).replace("/usr/local/cuda/bin/nvcc", f"{cuda}/bin/nvcc")
    libdirs = f"-L{cuda}/lib64 -L{cuda}/lib -L{cuda}/targets/x86_64-linux/lib -L{cuda}/lib64/stubs -L{cuda}/targets/x86_64-linux/lib/stubs"
    cmd = cmd.replace(FAKE + "libcublas.so", f"{libdirs} -lcublas").replace(FAKE + "libcublasLt.so", "-lcublasLt").replace(FAKE + "libcuda.so", "-lcuda")
    cmd = cmd.replace(FAKE, "")
    # libraries cmake found here by absolute path: name them instead, this machine has its own
    cmd = re.sub(r"\S*/libcudart\.so\b", "-lcudart", cmd)
    cmd = re.sub(r"\S*/libculibos\.a\b", "", cmd)
    cmd = re.sub(r"\S*/libgomp\.so\b", "-fopenmp", cmd)
    cmd = re.sub(r"\S*/libpthread\.a\b", "-lpthread", cmd)
    return cmd


def target_of(entry) -> str:
    m = re.search(r"CMakeFiles/([^/]+)\.dir/", entry.get("output", entry["command"]))
    return m.group(1) if m else "?"


entries = [e for e in json.load(open(os.path.join(build, "compile_commands.json"))) if target_of(e) in targets]
# for the rsp option files the compile commands refer to
for root, _, files in os.walk(build):
    for f in files:
        if f.endswith(".rsp"):
            p = os.path.join(root, f)
            text = open(p).read()
            open(p, "w").write(fix(text))

started = time.time()
failures = []


def compile_one(e):
    m = re.search(r"\s-o\s+(\S+)", e["command"])
    out = os.path.join(e["directory"], e.get("output") or (m.group(1) if m else ""))
    if out != e["directory"] and os.path.isfile(out):  # a warm machine keeps what an earlier call compiled
        return 0
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(fix(e["command"]), shell=True, cwd=e["directory"], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append((e["file"], r.stderr[-3000:]))
    return r.returncode


# the heaviest (CUDA) files first, so the pool stays busy to the end
entries.sort(key=lambda e: 0 if e["file"].endswith(".cu") else 1)
with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
    list(pool.map(compile_one, entries))
print(f"compiled {len(entries)} files in {time.time() - started:.0f} s, {len(failures)} failed", flush=True)
for f, err in failures[:5]:
    print(f"--- {f}\n{err}", flush=True)
if failures:
    sys.exit(1)

for t in targets:
    for root, dirs, files in os.walk(build):
        if root.endswith(f"CMakeFiles/{t}.dir") and "link.txt" in files:
            workdir = os.path.dirname(os.path.dirname(root))
            for line in open(os.path.join(root, "link.txt")).read().splitlines():
                if not line.strip():
                    continue
                r = subprocess.run(fix(line), shell=True, cwd=workdir, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"link step for {t} failed:\n{fix(line)[:500]}\n{r.stderr[-3000:]}", flush=True)
                    sys.exit(1)
print(f"built {', '.join(targets)} in {time.time() - started:.0f} s", flush=True)
