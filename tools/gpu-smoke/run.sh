#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after prepare.sh: the demo on CUDA with --check.
# Writes demo-cuda.txt and losses-cuda.png to $OUT (or the current folder).
set -uo pipefail
out=${OUT:-.}
mkdir -p /tmp/dotnet && tar -xJf .device/dotnet.tar.xz -C /tmp/dotnet
torch_lib=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda, torch.cuda.get_device_name(0))" | tee "$out/demo-cuda.txt"
export LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" DOTNET_ROOT=/tmp/dotnet COLUMNS=140
/tmp/dotnet/dotnet .device/demo/ReproducibleBlock.Demo.dll --device cuda --check --plot "$out/losses-cuda.png" 2>&1 | tee -a "$out/demo-cuda.txt"
status=${PIPESTATUS[0]}
echo "demo exit code: $status" | tee -a "$out/demo-cuda.txt"
exit "$status"
