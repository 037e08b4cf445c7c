#!/usr/bin/env bash
# Runs the official protocol test suites against the `conformance` example,
# RUNS times each (default 20), and prints a tally per suite: runs passed /
# failed, and how often each failing test failed.
#
# Usage: scripts/conformance.sh SUITES_DIR [RUNS]
#
# SUITES_DIR holds the suites as the socket.io monorepo ships them (they are
# not committed here): the monorepo's `docs/` folder, or the monorepo itself,
# with engine.io-protocol/v4-test-suite, engine.io-protocol/v3-test-suite and
# socket.io-protocol/v5-test-suite. Each is a small npm project run with
# mocha; the script copies it to a work folder, installs its packages
# (`npm ci`, else `npm install`; kept between invocations while the lockfile
# is unchanged) and points its hard-coded `http://localhost:3000` at the
# server's port.
#
# Environment:
#   OXIO_CONFORMANCE_BIN      a built conformance binary (skips the build)
#   OXIO_CONFORMANCE_PACKAGE  the cargo package of the example (oxio-server)
#   OXIO_CONFORMANCE_PORT     the server's port (default: a free one)
#   OXIO_CONFORMANCE_SUITES   which suites, a subset of "eio4 eio3 sio5"
#   OXIO_CONFORMANCE_WORK     work folder (default ~/.cache/oxio/conformance)
#   RUST_LOG                  the server's log filter (default: warn)
#
# Needs: cargo (unless OXIO_CONFORMANCE_BIN), node and npm.
# Exit status: 0 when every run of every suite passed.
set -euo pipefail

usage() {
    echo "usage: $0 SUITES_DIR [RUNS]" >&2
    exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
suites_dir=$(cd "$1" && pwd) || usage
runs=${2:-20}
case $runs in '' | *[!0-9]*) usage ;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
work=${OXIO_CONFORMANCE_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/oxio/conformance}
package=${OXIO_CONFORMANCE_PACKAGE:-oxio-server}
selected=${OXIO_CONFORMANCE_SUITES:-eio4 eio3 sio5}
mkdir -p "$work"

for tool in node npm npx; do
    command -v "$tool" >/dev/null || { echo "conformance.sh: $tool not found" >&2; exit 1; }
done

# name -> where the suite lives under SUITES_DIR, and its title.
suite_rel() {
    case $1 in
        eio4) echo engine.io-protocol/v4-test-suite ;;
        eio3) echo engine.io-protocol/v3-test-suite ;;
        sio5) echo socket.io-protocol/v5-test-suite ;;
        *) echo "conformance.sh: unknown suite $1 (eio4, eio3, sio5)" >&2; exit 2 ;;
    esac
}
suite_title() {
    case $1 in
        eio4) echo "engine.io-protocol v4 test-suite" ;;
        eio3) echo "engine.io-protocol v3 test-suite" ;;
        sio5) echo "socket.io-protocol v5 test-suite" ;;
    esac
}
suite_src() {
    local rel
    rel=$(suite_rel "$1")
    for dir in "$suites_dir/$rel" "$suites_dir/docs/$rel"; do
        if [ -f "$dir/test-suite.js" ] && [ -f "$dir/package.json" ]; then
            echo "$dir"
            return
        fi
    done
    echo "conformance.sh: no $rel/test-suite.js under $suites_dir" >&2
    exit 1
}

# The server binary.
if [ -n "${OXIO_CONFORMANCE_BIN:-}" ]; then
    bin=$OXIO_CONFORMANCE_BIN
else
    echo "== building the conformance example (package $package)"
    bin=$(cd "$root" && cargo build --release -p "$package" --example conformance \
        --message-format=json-render-diagnostics |
        node -e '
            let exe = "";
            require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
                try {
                    const m = JSON.parse(l);
                    if (m.reason === "compiler-artifact" && m.target.name === "conformance" && m.executable) exe = m.executable;
                } catch (e) {}
            }).on("close", () => console.log(exe));
        ')
fi
[ -x "$bin" ] || { echo "conformance.sh: no executable conformance binary ($bin)" >&2; exit 1; }

port=${OXIO_CONFORMANCE_PORT:-$(node -e '
    const s = require("net").createServer().listen(0, "127.0.0.1", () => {
        console.log(s.address().port);
        s.close();
    });')}

# Each suite: a copy with its packages installed and the URL rewritten.
prepare() { # name
    local name=$1 src dir
    src=$(suite_src "$name")
    dir="$work/$name"
    mkdir -p "$dir"
    if [ ! -d "$dir/node_modules" ] || ! cmp -s "$src/package-lock.json" "$dir/.installed-lock" ||
        ! cmp -s "$src/package.json" "$dir/package.json"; then
        echo "== installing the packages of $(suite_title "$name")"
        rm -rf "$dir/node_modules"
        cp "$src/package.json" "$dir/"
        if [ -f "$src/package-lock.json" ]; then
            cp "$src/package-lock.json" "$dir/"
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
                (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
            cp "$src/package-lock.json" "$dir/.installed-lock"
        else
            (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
            : >"$dir/.installed-lock"
        fi
    fi
    cp "$src"/*.js "$dir/"
    sed -i "s#\"http://localhost:3000\"#\"http://127.0.0.1:$port\"#" "$dir/test-suite.js"
    grep -q "\"http://127.0.0.1:$port\"" "$dir/test-suite.js" || {
        echo "conformance.sh: $src/test-suite.js has no \"http://localhost:3000\" URL to rewrite" >&2
        exit 1
    }
}
for name in $selected; do prepare "$name"; done

# The server, for all runs of all suites.
server_log="$work/server.log"
RUST_LOG=${RUST_LOG:-warn} "$bin" --port "$port" >"$server_log" 2>&1 &
server_pid=$!
stop_server() {
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap stop_server EXIT
for _ in $(seq 100); do
    if node -e '
        const s = require("net").connect(Number(process.argv[1]), "127.0.0.1");
        s.on("connect", () => process.exit(0));
        s.on("error", () => process.exit(1));' "$port"; then
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || { echo "conformance.sh: server exited; log:" >&2; cat "$server_log" >&2; exit 1; }
    sleep 0.1
done
echo "== server: $bin --port $port (pid $server_pid, log $server_log)"

# One mocha run; prints "<passes> <failures>" then one failing title a line.
summarize() { # json file
    node -e '
        const fs = require("fs");
        let r;
        try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
        catch (e) { console.log("0 1"); console.log("(mocha did not report: see its stderr)"); process.exit(0); }
        console.log(`${r.stats.passes} ${r.stats.failures}`);
        for (const f of r.failures) console.log(f.fullTitle);' "$1"
}

status=0
report=""
for name in $selected; do
    dir="$work/$name"
    title=$(suite_title "$name")
    passed=0
    failed=0
    : >"$dir/failures.txt"
    echo "== $title: $runs runs"
    for i in $(seq "$runs"); do
        kill -0 "$server_pid" 2>/dev/null || { echo "conformance.sh: the server died; log: $server_log" >&2; exit 1; }
        set +e
        (cd "$dir" && timeout 600 npx --no-install mocha --exit --reporter json test-suite.js \
            >"$dir/run-$i.json" 2>"$dir/run-$i.err")
        set -e
        summary=$(summarize "$dir/run-$i.json")
        read -r n_pass n_fail <<<"$(head -n1 <<<"$summary")"
        if [ "$n_fail" = 0 ] && [ "$n_pass" -gt 0 ]; then
            passed=$((passed + 1))
            echo "   run $i: pass ($n_pass tests)"
        else
            failed=$((failed + 1))
            tail -n +2 <<<"$summary" >>"$dir/failures.txt"
            echo "   run $i: FAIL ($n_pass passed, $n_fail failed): $(tail -n +2 <<<"$summary" | paste -sd ';' -)"
        fi
    done
    line="$title: $passed/$runs runs passed, $failed failed"
    if [ -s "$dir/failures.txt" ]; then
        line+=$'\n'$(sort "$dir/failures.txt" | uniq -c | sort -rn | sed 's/^ *\([0-9]*\) /      \1x /')
    fi
    if [ "$failed" -gt 0 ]; then
        status=1
    fi
    report+="$line"$'\n'
done

echo
echo "== tally"
printf '%s' "$report"
exit $status
