#!/usr/bin/env bash
# Prints the version to pack with (dotnet pack -p:Version=...):
#   on a version tag in CI (GITHUB_REF refs/tags/vX.Y.Z): X.Y.Z, which must start with VersionPrefix of Directory.Build.props;
#   elsewhere in CI: <VersionPrefix>-ci.<run number>.<attempt>, unique per workflow run;
#   locally: <VersionPrefix>-local.<UTC time to the second>, so a new local pack never meets a stale copy of the same
#   version in the NuGet cache (NuGet never replaces a cached package whose version it already has).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' Directory.Build.props | head -1)
[ -n "$prefix" ] || { echo "no VersionPrefix in Directory.Build.props" >&2; exit 1; }
ref=${GITHUB_REF:-}
if [[ "$ref" == refs/tags/v* ]]; then
  version=${ref#refs/tags/v}
  case "$version" in
    "$prefix"|"$prefix"-*) ;;
    *) echo "tag v$version does not match VersionPrefix $prefix in Directory.Build.props: update one of them" >&2; exit 1 ;;
  esac
elif [ -n "${GITHUB_RUN_NUMBER:-}" ]; then
  version="$prefix-ci.$GITHUB_RUN_NUMBER.${GITHUB_RUN_ATTEMPT:-1}"
else
  version="$prefix-local.$(date -u +%Y%m%d%H%M%S)"
fi
echo "$version"
