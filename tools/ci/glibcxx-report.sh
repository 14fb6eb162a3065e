#!/usr/bin/env bash
# CI report on the libstdc++ build step (README, Troubleshooting): whether this machine's libstdc++ lacks
# GLIBCXX_3.4.32 (the case the step is for, as on ubuntu-22.04), and whether the build step marked that requirement
# weak in the output copies of libLibTorchSharp.so (runtimes/linux-x64/native/) under the given folders (default: the Core tests' Release output).
# Fails when the libstdc++ lacks the version and a copy was left unmarked (the tests would not load TorchSharp), or
# when no copy is found. Linux only.
set -euo pipefail
cd "$(dirname "$0")/../.."
folders=("$@")
[ ${#folders[@]} -gt 0 ] || folders=(tests/ReproducibleBlock.Core.Tests/bin/Release)

libstdcxx=$( (/sbin/ldconfig -p 2>/dev/null || ldconfig -p) | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
if [ -z "$libstdcxx" ]; then echo "libstdc++.so.6: not found by ldconfig"; exit 1; fi
if grep -q GLIBCXX_3.4.32 "$(readlink -f "$libstdcxx")"; then lacks=no; else lacks=yes; fi
newest=$(grep -ao 'GLIBCXX_3\.4\.[0-9]*' "$(readlink -f "$libstdcxx")" | sort -t. -k3 -n -u | tail -1)
echo "host libstdc++: $(readlink -f "$libstdcxx") (newest version $newest); lacks GLIBCXX_3.4.32: $lacks"

copies=$(find "${folders[@]}" -path '*/runtimes/linux-x64/native/libLibTorchSharp.so' -type f 2>/dev/null | sort)
if [ -z "$copies" ]; then echo "no libLibTorchSharp.so under ${folders[*]}: build first"; exit 1; fi
status=0
while IFS= read -r copy; do
  weak=$(readelf -V "$copy" | grep -c 'Name: GLIBCXX_3.4.32  Flags: WEAK' || true)   # not grep -q: pipefail and SIGPIPE
  if [ "$weak" -gt 0 ]; then applied=yes; else applied=no; fi
  echo "build step applied (GLIBCXX_3.4.32 weak) in $copy: $applied"
  if [ "$lacks" = yes ] && [ "$applied" = no ]; then status=1; fi
done <<< "$copies"
if [ "$lacks" = yes ]; then
  echo "=> the build step's real case is exercised on this machine"
else
  echo "=> this machine's libstdc++ provides GLIBCXX_3.4.32: the build step's case is not exercised here"
fi
exit "$status"
