#!/usr/bin/env bash
# Mutation testing of ReproducibleBlock.Core with the Core tests (dotnet-stryker 5.1.0, a local tool).
# Soak, build-step and example (subprocess) tests are filtered out for time. Not mutated: the real CUDA interop (State/CudaDevices.cs:
# libtorch_cuda's exports, TorchSharp's CUDA seeding, detection), the other native interop (Native/: libtorch's
# context switches, libc's environment, per platform), the woven entry points (WovenCode.cs) and the unwoven-assembly
# check (UnwovenAssemblies.cs): the first two need a GPU or another platform to run every path, the last two are
# exercised by the weaving tests.
# Fails (exit code non-zero) below a score of 85%.
# About 16 minutes on two cores. The reports are written under StrykerOutput/ in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
# Stryker runs from the test project (a solution folder would put it in solution mode).
cd tests/ReproducibleBlock.Core.Tests
dotnet tool run dotnet-stryker --config-file ../../tools/stryker-config.json --output ../../StrykerOutput "$@"
