#!/bin/bash
# Stop everything start-instance.sh and start-sync-client.sh started for DIR, by pid file only:
# rolling sync_clients first (politely), then master (SIGTERM, which stops its children;
# SIGKILL after TIMEOUT_S), then the optional syslog sink.
# usage: stop-instance.sh DIR [TIMEOUT_S]
set -uo pipefail
. "$(dirname "$0")/common.sh"
DIR=$(instance_dir "${1:-}")
TIMEOUT=${2:-10}
for pidfile in "$DIR"/run/sync_client*.pid; do
  [ -e "$pidfile" ] || continue
  channel=${pidfile##*/sync_client}; channel=${channel%.pid}; channel=${channel#.}
  "$INFRA_DIR/stop-sync-client.sh" "$DIR" "$channel"
done
stop_pidfile master "$DIR/master.pid" "$TIMEOUT"
stop_pidfile syslog-sink "$DIR/run/syslog-sink.pid" 2
