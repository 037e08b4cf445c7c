#!/usr/bin/env bash
# Checks the public API of the library crates against the recorded baseline
# with cargo-semver-checks, so an API break is seen before a release (and
# the version bumped accordingly). Not part of scripts/test.sh: the tool is
# heavy to install and each run builds rustdoc JSON twice. Usage:
#
#   scripts/semver.sh             check against the baseline
#   scripts/semver.sh --install   install cargo-semver-checks first if missing
#
# The baseline is the git revision on the first line of
# scripts/semver-baseline.txt (the API of the 0.1.0 release candidates);
# after a release, record the released commit (or tag) there.
#
# Environment:
#   OXIO_SEMVER_TARGET_DIR   its own target directory
#                            (default "${CARGO_TARGET_DIR:-~/.cache/oxio/target}-semver")
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CRATES=(oxio-codec oxio-engine oxio-adapter oxio-server oxio-redis-adapter oxio-client)

if [ "${1:-}" = "--install" ] && ! cargo semver-checks --version >/dev/null 2>&1; then
    cargo install --locked cargo-semver-checks
fi
if ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "scripts/semver.sh: cargo-semver-checks is missing: run scripts/semver.sh --install" >&2
    echo "(or cargo install --locked cargo-semver-checks)" >&2
    exit 2
fi

BASELINE="$(sed -n '1{s/[[:space:]].*//;p}' scripts/semver-baseline.txt)"
git rev-parse --verify --quiet "$BASELINE^{commit}" >/dev/null ||
    { echo "scripts/semver.sh: baseline $BASELINE is not a commit of this repository" >&2; exit 2; }

export CARGO_TARGET_DIR="${OXIO_SEMVER_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/oxio/target}-semver}"
echo "semver: $(cargo semver-checks --version) against $BASELINE"
args=()
for c in "${CRATES[@]}"; do args+=(-p "$c"); done
cargo semver-checks check-release "${args[@]}" --baseline-rev "$BASELINE"
