#!/usr/bin/env bash
# status.sh DIR: each node's id, roles, pid (or "down") and client port.
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -ge 1 ] || die "usage: status.sh DIR"
load_cluster "$1"
for id in $NODES; do
  roles=$(sed -n 's/^process.roles=//p' "$DIR/node-$id/server.properties")
  listeners=$(sed -n 's/^listeners=//p' "$DIR/node-$id/server.properties")
  if pid=$(node_pid "$id"); then state="up $pid"; else state=down; fi
  printf 'node %s\t%s\t%s\t%s\n' "$id" "$roles" "$state" "$listeners"
done
echo "bootstrap.servers=$BOOTSTRAP"
