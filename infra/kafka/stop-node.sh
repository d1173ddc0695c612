#!/usr/bin/env bash
# stop-node.sh [--kill] DIR ID [TIMEOUT_S]: stops one node by its pid. Without --kill: SIGTERM,
# a controlled shutdown (leadership moves away first), SIGKILL after TIMEOUT_S (default 30).
# With --kill: SIGKILL at once, as a crash or a power cut.
set -euo pipefail
. "$(dirname "$0")/common.sh"
kill=false
if [ "${1:-}" = --kill ]; then kill=true; shift; fi
[ $# -ge 2 ] || die "usage: stop-node.sh [--kill] DIR ID [TIMEOUT_S]"
load_cluster "$1"
id=$2 timeout=${3:-30}
if ! pid=$(node_pid "$id"); then echo "node $id does not run"; exit 0; fi
if $kill; then
  kill -KILL "$pid"
else
  kill -TERM "$pid"
  for ((i = 0; i < timeout * 10; i++)); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then echo "node $id ($pid) still alive after ${timeout}s, SIGKILL" >&2; kill -KILL "$pid"; fi
fi
for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.1; done
rm -f "$DIR/node-$id/kafka.pid"
echo "node $id ($pid) $($kill && echo killed || echo stopped)"
