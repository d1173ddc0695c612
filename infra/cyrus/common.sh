# Sourced by the infra/cyrus scripts (not executable on its own).
CYRUS_BIN=${CYRUS_BIN:-/usr/lib/cyrus/bin}
INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# Absolute instance dir without trailing slash; it ends up in cyrus.conf cmd= lines,
# so spaces and quotes are refused.
instance_dir() {
  local d=$1
  [ -n "$d" ] || die "instance dir missing"
  case $d in /*) ;; *) d=$(pwd)/$d ;; esac
  while [ "${d%/}" != "$d" ]; do d=${d%/}; done
  case $d in *[[:space:]\"\']*) die "instance dir must not contain spaces or quotes: '$d'" ;; esac
  printf '%s' "$d"
}

# A process that exited but was not reaped yet (zombie) counts as gone: in containers the
# init process may reap orphans late, and kill -0 succeeds on zombies.
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
alive() { [ -f "$1" ] && running "$(cat "$1")"; }

# stop_pidfile NAME PIDFILE [TIMEOUT_S]: SIGTERM, wait, then SIGKILL. Only the pid in the file.
stop_pidfile() {
  local name=$1 f=$2 timeout=${3:-10} pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if running "$pid"; then
    kill -TERM "$pid"
    for ((i = 0; i < timeout * 10; i++)); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then
      echo "$name ($pid) still alive after ${timeout}s, SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    echo "$name ($pid) stopped"
  fi
  rm -f "$f"
}

# Runs a command with syslog(3) routed to DIR/log/syslog.sock when DIR/run/syslog-sink.pid
# is alive: a private mount namespace overlays /dev and points /dev/log at the sink.
# Cyrus logs only via syslog, so without this (and without a host syslog) errors vanish.
with_syslog() {
  local dir=$1; shift
  if ! alive "$dir/run/syslog-sink.pid" || [ -e /dev/log ]; then exec "$@"; fi
  exec unshare --mount --propagation private /bin/bash -c '
    set -e
    ns=$1; sock=$2; shift 2
    mkdir -p "$ns"
    mount -t tmpfs cyrus-ns "$ns"
    mkdir "$ns/up" "$ns/work"
    mount -t overlay cyrus-dev -o "lowerdir=/dev,upperdir=$ns/up,workdir=$ns/work" /dev
    ln -sf "$sock" /dev/log
    exec "$@"' with_syslog "$dir/run/ns" "$dir/log/syslog.sock" "$@"
}
