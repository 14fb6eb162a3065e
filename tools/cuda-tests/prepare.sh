#!/usr/bin/env bash
# Prepares a run of the CUDA tests on a machine that has a CUDA libtorch (such as PyTorch's torch/lib) but no .NET:
# tests/ReproducibleBlock.Cuda.Tests published self-contained for linux-x64 against the managed TorchSharp package
# only (the machine supplies libtorch), with the libstdc++ build step applied whatever this machine has (the GPU
# machine's libstdc++ may be older). Output: .device/cuda-tests/ and .device/run-cuda-tests.sh (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device/cuda-tests && mkdir -p .device
dotnet publish tests/ReproducibleBlock.Cuda.Tests -c Release -r linux-x64 --self-contained true \
  -p:TorchSharpBackend=none -p:ReproducibleBlockPatchTorchSharp=true -o .device/cuda-tests
rm -f .device/cuda-tests/libtorch*.so* .device/cuda-tests/libc10*.so*   # a CPU libtorch must not load beside the CUDA one
cp tools/cuda-tests/run.sh .device/run-cuda-tests.sh
du -sh .device/cuda-tests
