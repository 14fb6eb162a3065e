#!/usr/bin/env bash
# Build time of one woven project (examples/WovenModel) with the weaver on and off: clean (the project's own bin/obj
# removed, its dependencies already built), incremental with nothing changed, and incremental after a source edit.
# Prints the median of N runs of each (default 3) and the weave step alone as Fody reports it.
set -euo pipefail
cd "$(dirname "$0")/.."
project=examples/WovenModel
runs=${1:-3}
dotnet build "$project" -c Release -v:q -nologo >/dev/null   # dependencies and restore, outside the timings

time_build() { # $1: extra arguments; prints seconds
  local start end
  start=$(date +%s.%N)
  dotnet build "$project" -c Release -v:q -nologo --no-restore $1 >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '| build | weaver on (s) | weaver off (s) |\n|---|---|---|\n'
for kind in clean unchanged edited; do
  for mode in on off; do
    extra=""; [ "$mode" = off ] && extra="-p:DisableFody=true"
    dotnet build "$project" -c Release -v:q -nologo --no-restore $extra >/dev/null
    samples=()
    for _ in $(seq "$runs"); do
      case $kind in
        clean) rm -rf "$project/bin" "$project/obj/Release" ;;
        edited) touch "$project/Program.cs" ;;
      esac
      samples+=("$(time_build "$extra")")
    done
    eval "median_$mode=$(printf '%s\n' "${samples[@]}" | median)"
  done
  printf '| %s | %.2f | %.2f |\n' "$kind" "$median_on" "$median_off"
done
touch "$project/Program.cs"
dotnet build "$project" -c Release -v:n -nologo --no-restore | grep -E "Finished Fody|wove" | sed 's/^ */weave step: /'
