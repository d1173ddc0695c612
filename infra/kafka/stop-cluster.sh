#!/usr/bin/env bash
# stop-cluster.sh DIR [TIMEOUT_S]: SIGTERM to every node at once (brokers and controllers shut
# down together; one by one, the last controllers would wait for a quorum that is gone), SIGKILL
# to what still runs after TIMEOUT_S (default 30).
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || die "usage: stop-cluster.sh DIR [TIMEOUT_S]"
load_cluster "$1"
timeout=${2:-30}
declare -A pids
for id in $NODES; do
  if pid=$(node_pid "$id"); then pids[$id]=$pid; kill -TERM "$pid"; fi
done
for id in "${!pids[@]}"; do
  pid=${pids[$id]}
  for ((i = 0; i < timeout * 10; i++)); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then echo "node $id ($pid) still alive after ${timeout}s, SIGKILL" >&2; kill -KILL "$pid"; fi
  rm -f "$DIR/node-$id/kafka.pid"
  echo "node $id ($pid) stopped"
done
