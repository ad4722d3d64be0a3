# Shared helpers for the benchmark scripts (sourced, not run).
set -euo pipefail
cd "$(dirname "$0")/.."
# bellhop logs as in production (info: one line per settled message) into a file, so that
# the cost of logging is measured and the terminal shows the results only.
mkdir -p target
BENCH_LOG=${BENCH_LOG:-target/bench.log}
: > "$BENCH_LOG"

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

need() {
    command -v "$1" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
    command -v "$1" >/dev/null 2>&1 || { echo "bench: $1 is missing (apt-get install postfix)" >&2; exit 2; }
}

# Starts Postfix's smtp-sink on a free loopback port; sets SINK_PORT and SINK_PID.
start_sink() {
    need smtp-sink
    SINK_PORT=$(free_port)
    local user=postfix
    id postfix >/dev/null 2>&1 || user=root
    smtp-sink -u "$user" "127.0.0.1:$SINK_PORT" 1024 &
    SINK_PID=$!
    trap 'kill $SINK_PID 2>/dev/null || true' EXIT
    for _ in $(seq 50); do
        (echo > "/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench: smtp-sink did not start" >&2
    exit 2
}
