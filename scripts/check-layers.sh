#!/usr/bin/env bash
# Checks that dependencies point one way (the server crates' layering) and
# prints the graph of the server crates. Run by scripts/test.sh; exits 1 on
# the first broken rule, naming it.
#
#   codec <- oxio-engine <- oxio-adapter <- oxio-server <- oxio-demo
#                                        <- oxio-redis-adapter <- oxio-demo
#                                        <- oxio-redis-streams-adapter <- oxio-demo
#
# Inside oxio-engine: session_state (sans-IO core) <- session (Tokio driver)
# <- transport/ <- router <- service.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() {
    echo "check-layers: $*" >&2
    exit 1
}

# Normal (not dev) dependencies of a package, one name a line.
deps() {
    cargo tree -p "$1" -e normal --prefix none --format '{p}' 2>/dev/null |
        awk '{print $1}' | sort -u
}

forbid_dep() {
    local pkg="$1" dep
    shift
    local all
    all="$(deps "$pkg")" || fail "cargo tree -p $pkg failed"
    for dep in "$@"; do
        if grep -qx "$dep" <<<"$all"; then
            fail "$pkg depends on $dep: a lower layer never depends on an upper one"
        fi
    done
}

forbid_dep oxio-codec oxio-engine oxio-adapter oxio-server tokio hyper
forbid_dep oxio-engine oxio-adapter oxio-server oxio-redis-adapter oxio-redis-streams-adapter
forbid_dep oxio-adapter oxio-server oxio-redis-adapter oxio-redis-streams-adapter
forbid_dep oxio-redis-adapter oxio-server oxio-redis-streams-adapter
forbid_dep oxio-redis-streams-adapter oxio-server oxio-redis-adapter
forbid_dep oxio-server oxio-redis-adapter oxio-redis-streams-adapter axum clap jsonwebtoken tracing-subscriber

# forbid_use FILE_OR_DIR PATTERN WHY
forbid_use() {
    local where="$1" pattern="$2" why="$3" hits
    hits="$(grep -HrnE "$pattern" "$where" --include='*.rs' | grep -vE '^\S+:[0-9]+:\s*//' || true)"
    [ -z "$hits" ] || fail "$why:"$'\n'"$hits"
}

E=std-server/engine/src
forbid_use "$E/session_state.rs" '\b(tokio|hyper|http|tokio_tungstenite)::' \
    "the sans-IO session core imports tokio, hyper or http"
forbid_use "$E/session.rs" 'crate::(transport|router|service)\b' \
    "the session driver imports a layer above it"
forbid_use "$E/transport" 'crate::(router|service)\b' \
    "a transport imports the router or the service"
forbid_use "$E/router.rs" 'crate::service\b' "the router imports the service"
forbid_use std-server/adapter/src 'oxio_server\b' "oxio-adapter names the Socket.IO layer"
forbid_use std-server/redis-adapter/src 'oxio_server\b' "oxio-redis-adapter names the Socket.IO layer"
forbid_use std-server/redis-streams-adapter/src 'oxio_server\b' "oxio-redis-streams-adapter names the Socket.IO layer"
hits="$(grep -rlnE '#\[path *=' std-server/*/tests std-server/testkit 2>/dev/null || true)"
[ -z "$hits" ] || fail "server tests include files by #[path] (use oxio-testkit or a tests/ module): $hits"
hits="$(grep -rlnE '#\[path *= *"[^"]*src/' codec/tests embedded-example/client/tests benches 2>/dev/null || true)"
[ -z "$hits" ] || fail "tests compile library source files again by #[path]: $hits"

echo "layers: ok. The server crates and their oxio dependencies:"
for pkg in oxio-engine oxio-adapter oxio-server oxio-redis-adapter oxio-redis-streams-adapter oxio-demo; do
    printf '  %-20s -> %s\n' "$pkg" "$(deps "$pkg" | grep -E '^oxio-' | grep -vx "$pkg" | tr '\n' ' ')"
done
