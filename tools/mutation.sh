#!/usr/bin/env bash
# Mutation testing of ReproducibleBlock.Core with the Core tests (dotnet-stryker 5.1.0, a local tool).
# Soak, build-step and subprocess (example, traced run) tests are filtered out for time. Not mutated: the real CUDA
# interop (State/CudaDevices.cs and Native/Cuda*.cs: libtorch_cuda's exports, TorchSharp's CUDA seeding, detection),
# which only a GPU reaches; the woven entry points (WovenCode.cs) and the unwoven-assembly check (UnwovenAssemblies.cs),
# exercised by the weaving tests; and the libstdc++ build step (buildTransitive/), an MSBuild task tested by its own
# build-step tests. The rest of Native/ (libtorch's context switches, libc's environment, loaded libraries) runs on
# this CPU and is mutated.
# Fails (exit code non-zero) below a score of 85%.
# About 16 minutes on two cores. The reports are written under StrykerOutput/ in the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet tool restore
# Stryker runs from the test project (a solution folder would put it in solution mode).
cd tests/ReproducibleBlock.Core.Tests
dotnet tool run dotnet-stryker --config-file ../../tools/stryker-config.json --output ../../StrykerOutput "$@"
