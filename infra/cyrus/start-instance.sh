#!/bin/bash
# Start the Cyrus master of an instance made by create-instance.sh and wait until its
# IMAP port accepts connections.
# usage: start-instance.sh [--syslog] DIR [TIMEOUT_S]
#   --syslog (or CYRUS_SYSLOG=1): capture Cyrus's syslog into DIR/log/syslog.log when the
#   host has no /dev/log (needs root: private mount namespace + overlay on /dev).
set -euo pipefail
. "$(dirname "$0")/common.sh"
SYSLOG=${CYRUS_SYSLOG:-0}
if [ "${1:-}" = --syslog ]; then SYSLOG=1; shift; fi
DIR=$(instance_dir "${1:-}")
TIMEOUT=${2:-20}
[ -f "$DIR/instance.env" ] || die "$DIR is not an instance (run create-instance.sh first)"
. "$DIR/instance.env"
alive "$DIR/master.pid" && die "master already running in $DIR (pid $(cat "$DIR/master.pid"))"

if [ "$SYSLOG" = 1 ] && [ ! -e /dev/log ] && ! alive "$DIR/run/syslog-sink.pid"; then
  setsid /usr/bin/python3 "$INFRA_DIR/syslog-sink.py" "$DIR/log/syslog.sock" "$DIR/log/syslog.log" \
    </dev/null >>"$DIR/log/syslog-sink.out" 2>&1 &
  echo $! > "$DIR/run/syslog-sink.pid"
  for ((i = 0; i < 50; i++)); do [ -S "$DIR/log/syslog.sock" ] && break; sleep 0.05; done
fi

# The pidfile must be writable by cyrus: a root-owned leftover would make master fail.
rm -f "$DIR/master.pid"
# -d: master daemonizes and writes its own pid to -p once it holds the lock.
( with_syslog "$DIR" "$CYRUS_BIN/master" -C "$DIR/imapd.conf" -M "$DIR/cyrus.conf" -p "$DIR/master.pid" -d )

deadline=$((SECONDS + TIMEOUT))
until (exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT") 2>/dev/null; do
  if [ $SECONDS -ge $deadline ]; then
    echo "IMAP port $IMAP_PORT not accepting after ${TIMEOUT}s (see $DIR/log/syslog.log if --syslog)" >&2
    exit 1
  fi
  sleep 0.02
done
echo "$ROLE master pid $(cat "$DIR/master.pid"), imap 127.0.0.1:$IMAP_PORT"
