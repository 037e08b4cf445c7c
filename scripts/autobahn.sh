#!/usr/bin/env bash
# The Autobahn WebSocket test suite (driven by PyPI `kosoku`, fuzzingclient
# mode) against the `ws_echo` example of oxio-engine: a raw WebSocket echo
# server on the frame layer oxio serves with (permessage-deflate on,
# messages up to 16 MiB). Prints the behaviours per section and exits 0
# when every case is OK, NON-STRICT or INFORMATIONAL (the close behaviour
# too). Results: std-server/engine/examples/ws_echo/README.md.
#
# Usage: scripts/autobahn.sh [full|quick|CASE...]
#   full   (default) sections 1-7, 9, 12 and 13 (~550 cases; section 9
#          and 12-13 take most of the time: 20-30 minutes on a busy machine)
#   quick  a short subset for scripts/test.sh (seconds)
#   CASE   kosoku case ids or globs, e.g. 6.4.* 12.1.1
#
# Environment:
#   OXIO_AUTOBAHN_VENV      venv holding kosoku (default ~/.cache/oxio/autobahn-venv;
#                           created and filled from std-server/engine/examples/ws_echo/requirements.txt)
#   OXIO_AUTOBAHN_BIN       a built ws_echo binary (skips the build)
#   OXIO_AUTOBAHN_OUT       report folder (default $CARGO_TARGET_DIR/autobahn)
#   OXIO_AUTOBAHN_PARALLEL  cases run at once (default 2)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${OXIO_AUTOBAHN_VENV:-$HOME/.cache/oxio/autobahn-venv}
req=std-server/engine/examples/ws_echo/requirements.txt
target=${CARGO_TARGET_DIR:-$HOME/.cache/oxio/target}
out=${OXIO_AUTOBAHN_OUT:-$target/autobahn}
parallel=${OXIO_AUTOBAHN_PARALLEL:-2}

mode=${1:-full}
cases=()
case $mode in
    full) cases=('1.*' '2.*' '3.*' '4.*' '5.*' '6.*' '7.*' '9.*' '12.*' '13.*') ;;
    quick) cases=('1.1.*' '2.*' '3.*' '4.1.*' '5.1' '5.6' '5.19' '6.2.*' '6.4.1' '7.1.*' '7.5.1' '7.9.*'
        '9.1.1' '12.1.1' '12.2.10' '13.1.1' '13.3.5' '13.7.10') ;;
    *) cases=("$@") ;;
esac

# kosoku in its own venv (again when requirements.txt changes).
if ! { [ -f "$venv/.oxio-req-stamp" ] && cmp -s "$req" "$venv/.oxio-req-stamp"; }; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$req"
    cp "$req" "$venv/.oxio-req-stamp"
fi

bin=${OXIO_AUTOBAHN_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release -p oxio-engine --example ws_echo
    bin=$target/release/examples/ws_echo
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
"$bin" --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
grep -q "listening on" "$log" || { cat "$log"; echo "ws_echo did not start" >&2; exit 1; }

rm -rf "$out"
includes=()
for c in "${cases[@]}"; do includes+=(-i "$c"); done
"$venv/bin/kosoku" -m fuzzingclient -p "$parallel" -o "$out" "${includes[@]}" "127.0.0.1:$port"

python3 - "$out/index.json" <<'PY'
import collections, json, sys
index = json.load(open(sys.argv[1]))
good = {"OK", "NON-STRICT", "INFORMATIONAL"}
bad, sections, total = [], collections.defaultdict(collections.Counter), 0
for agent, cases in index.items():
    for case, r in cases.items():
        total += 1
        sections[case.split(".")[0]][r["behavior"]] += 1
        if r["behavior"] not in good or r["behaviorClose"] not in good:
            bad.append(f"{case}: {r['behavior']} (close {r['behaviorClose']})")
for s in sorted(sections, key=int):
    print(f"section {s}: " + ", ".join(f"{k} {n}" for k, n in sorted(sections[s].items())))
print(f"autobahn: {total} cases, {total - len(bad)} OK/NON-STRICT/INFORMATIONAL, {len(bad)} failed")
for b in bad:
    print("  FAILED " + b)
sys.exit(1 if bad or total == 0 else 0)
PY
