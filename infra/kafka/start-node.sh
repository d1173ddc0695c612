#!/usr/bin/env bash
# start-node.sh DIR ID [TIMEOUT_S]: (re)starts one node and returns when it is up; it catches up
# from the others' logs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || die "usage: start-node.sh DIR ID [TIMEOUT_S]"
load_cluster "$1"
[ -d "$DIR/node-$2" ] || die "no node $2 in $DIR (nodes: $NODES)"
deadline=$(( $(date +%s) + ${3:-120} ))
start_node "$2"
await_node "$2" "$deadline"
