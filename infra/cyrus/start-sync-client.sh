#!/bin/bash
# Run a rolling sync_client for one sync-log channel of a primary in the background.
# usage: start-sync-client.sh DIR [CHANNEL] [EXTRA sync_client ARGS...]
#   CHANNEL: omitted or "" = the default channel (lib/sync/log); else lib/sync/CHANNEL/log and
#   the CHANNEL_sync_* options. Pid: DIR/run/sync_client[.CHANNEL].pid,
#   output (-v): DIR/log/sync_client[.CHANNEL].log
set -euo pipefail
. "$(dirname "$0")/common.sh"
DIR=$(instance_dir "${1:-}")
CHANNEL=${2:-}
shift $(($# < 2 ? $# : 2))
[ -f "$DIR/imapd.conf" ] || die "$DIR is not an instance"
SUFFIX=${CHANNEL:+.$CHANNEL}
PIDFILE=$DIR/run/sync_client$SUFFIX.pid
alive "$PIDFILE" && die "sync_client${CHANNEL:+ -n $CHANNEL} already running (pid $(cat "$PIDFILE"))"
# One shutdown file per channel (-F), so stopping one channel's client leaves the others alone.
SHUTDOWN=$DIR/run/sync_shutdown$SUFFIX
rm -f "$SHUTDOWN"
# -R: rolling mode without forking (-r forks and the parent exits, so $! would be wrong).
# -v: one line per action on stdout; setsid: not killed by the caller's terminal signals.
( setsid bash -c '. "$1"; shift; dir=$1; shift; with_syslog "$dir" "$@"' _ "$INFRA_DIR/common.sh" "$DIR" \
    "$CYRUS_BIN/sync_client" -C "$DIR/imapd.conf" -R -v -F "$SHUTDOWN" ${CHANNEL:+-n "$CHANNEL"} "$@" \
    </dev/null >>"$DIR/log/sync_client$SUFFIX.log" 2>&1 & echo $! > "$PIDFILE" )
sleep 0.1
alive "$PIDFILE" || { echo "sync_client exited at once; see $DIR/log/sync_client$SUFFIX.log" >&2;
                      tail -5 "$DIR/log/sync_client$SUFFIX.log" >&2; rm -f "$PIDFILE"; exit 1; }
echo "sync_client${CHANNEL:+ -n $CHANNEL} pid $(cat "$PIDFILE"), log $DIR/log/sync_client$SUFFIX.log"
