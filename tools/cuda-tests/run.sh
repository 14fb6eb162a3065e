#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after tools/cuda-tests/prepare.sh: the CUDA tests
# (TestCategory=Cuda) against PyTorch's CUDA libtorch, with REQUIRE_CUDA=1 so that a missing device fails them.
# Writes cuda-tests.txt and a TRX report to $OUT (or the current folder). Exit code: the test application's
# (0 all passed; non-zero otherwise, see `--help` of Microsoft.Testing.Platform).
set -uo pipefail
mkdir -p "${OUT:-.}" && out=$(realpath "${OUT:-.}")
torch_lib=${TORCH_LIB:-$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")}
{
  python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))" || true
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
} 2>&1 | tee "$out/cuda-tests.txt"
export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" REQUIRE_CUDA=1
.device/cuda-tests/ReproducibleBlock.Cuda.Tests --filter "TestCategory=Cuda" --minimum-expected-tests 1 \
  --output detailed --report-trx --report-trx-filename cuda-tests.trx --results-directory "$out" 2>&1 | tee -a "$out/cuda-tests.txt"
status=${PIPESTATUS[0]}
echo "cuda tests exit code: $status" | tee -a "$out/cuda-tests.txt"
exit "$status"
