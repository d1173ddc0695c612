#!/bin/bash
# Stop a rolling sync_client started by start-sync-client.sh: touch its shutdown file
# (it sends EXIT to the server and exits within one poll period), then SIGTERM/SIGKILL.
# usage: stop-sync-client.sh DIR [CHANNEL] [TIMEOUT_S]
set -uo pipefail
. "$(dirname "$0")/common.sh"
DIR=$(instance_dir "${1:-}")
CHANNEL=${2:-}
TIMEOUT=${3:-5}
SUFFIX=${CHANNEL:+.$CHANNEL}
PIDFILE=$DIR/run/sync_client$SUFFIX.pid
if alive "$PIDFILE"; then
  touch "$DIR/run/sync_shutdown$SUFFIX"
  for ((i = 0; i < TIMEOUT * 10; i++)); do alive "$PIDFILE" || break; sleep 0.1; done
fi
stop_pidfile "sync_client${CHANNEL:+ -n $CHANNEL}" "$PIDFILE" 2
rm -f "$DIR/run/sync_shutdown$SUFFIX"
