#!/usr/bin/env bash
# start-cluster.sh DIR [TIMEOUT_S]: starts every node that does not run, all at once (a node
# cannot finish starting before a quorum of controllers exists), and returns when all are up.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || die "usage: start-cluster.sh DIR [TIMEOUT_S]"
load_cluster "$1"
deadline=$(( $(date +%s) + ${2:-120} ))
for id in $NODES; do start_node "$id"; done
for id in $NODES; do await_node "$id" "$deadline"; done
echo "bootstrap.servers=$BOOTSTRAP"
