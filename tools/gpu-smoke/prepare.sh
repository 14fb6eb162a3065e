#!/usr/bin/env bash
# Prepares a GPU smoke run of the demo on a machine that has PyTorch's CUDA libraries but no .NET:
# a framework-dependent build of the demo against the managed TorchSharp package only (the machine supplies
# libtorch), and a .NET runtime to carry along. Output: .device/ (ignored by git), about 45 MB.
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .device && mkdir -p .device
dotnet publish examples/ReproducibleBlock.Demo -c Release -r linux-x64 --self-contained false -p:TorchSharpBackend=none -o .device/demo
rm -f .device/demo/libtorch*.so* .device/demo/libc10*.so*   # CPU libtorch must not load beside the CUDA one
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
tar -C "$dotnet_root" -cJf .device/dotnet.tar.xz dotnet host shared/Microsoft.NETCore.App
cp tools/gpu-smoke/run.sh .device/run.sh
du -sh .device
