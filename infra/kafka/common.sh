# Sourced by the infra/kafka scripts (not executable on its own).
INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$INFRA_DIR/../.." && pwd)
JAVA=${JAVA:-java}

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# Absolute cluster dir without trailing slash.
cluster_dir() {
  local d=$1
  [ -n "$d" ] || die "cluster dir missing"
  case $d in /*) ;; *) d=$(pwd)/$d ;; esac
  while [ "${d%/}" != "$d" ]; do d=${d%/}; done
  case $d in *[[:space:]\"\']*) die "cluster dir must not contain spaces or quotes: '$d'" ;; esac
  printf '%s' "$d"
}

load_cluster() {
  DIR=$(cluster_dir "$1")
  [ -f "$DIR/cluster.env" ] || die "$DIR is not a cluster made by create-cluster.sh (no cluster.env)"
  # shellcheck disable=SC1091
  . "$DIR/cluster.env"
}

# A zombie counts as gone (kill -0 succeeds on zombies).
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# The pid of node ID if it runs: the pid file's process, and only if it is this node's JVM (a
# recycled pid of another process is never signalled).
node_pid() {
  local f="$DIR/node-$1/kafka.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  running "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DIR/node-$1/server.properties" || return 1
  printf '%s' "$pid"
}

# The Java classpath holding kafka.Kafka (kafka_2.13) and a log4j2 binding: $KAFKA_CLASSPATH, or
# resolved once by Maven from the repository's parent POM (same Kafka version as mailstream).
classpath() {
  if [ -n "${KAFKA_CLASSPATH:-}" ]; then printf '%s' "$KAFKA_CLASSPATH"; return; fi
  if [ ! -s "$DIR/classpath" ]; then
    local pomdir="$DIR/classpath-pom" version parent
    version=$(sed -n 's:^  <version>\(.*\)</version>:\1:p' "$REPO_DIR/pom.xml" | head -1)
    mkdir -p "$pomdir"
    parent=$(realpath --relative-to="$pomdir" "$REPO_DIR/pom.xml")
    cat > "$pomdir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent><groupId>io.mailstream</groupId><artifactId>mailstream-parent</artifactId><version>$version</version>
    <relativePath>$parent</relativePath></parent>
  <artifactId>kafka-broker-classpath</artifactId>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><scope>runtime</scope></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><scope>runtime</scope></dependency>
  </dependencies>
</project>
POM
    mvn -B -q -f "$pomdir/pom.xml" dependency:build-classpath -Dmdep.includeScope=runtime \
        -Dmdep.outputFile="$DIR/classpath" >&2 || die "could not resolve Kafka's classpath with Maven (set KAFKA_CLASSPATH)"
  fi
  cat "$DIR/classpath"
}

# start_node ID: launches node ID's JVM in its own session; output to node-ID/kafka.log (the
# previous run's log is kept as kafka.log.prev).
start_node() {
  local id=$1 nd="$DIR/node-$1" cp pid
  if pid=$(node_pid "$id"); then echo "node $id already runs ($pid)"; return 0; fi
  cp=$(classpath)
  [ -f "$nd/kafka.log" ] && mv "$nd/kafka.log" "$nd/kafka.log.prev"
  # shellcheck disable=SC2086
  setsid "$JAVA" $KAFKA_HEAP_OPTS -Dlog4j2.configurationFile="$DIR/log4j2.xml" -cp "$cp" \
      kafka.Kafka "$nd/server.properties" > "$nd/kafka.log" 2>&1 < /dev/null &
  echo $! > "$nd/kafka.pid"
}

# await_node ID DEADLINE_EPOCH: until node ID logs that it started (a broker: unfenced and
# serving; a controller: in the quorum); fails with the log's tail if it dies or time runs out.
await_node() {
  local id=$1 deadline=$2 nd="$DIR/node-$1"
  while ! grep -q "Kafka Server started" "$nd/kafka.log" 2>/dev/null; do
    if ! node_pid "$id" > /dev/null; then
      tail -20 "$nd/kafka.log" >&2
      die "node $id exited while starting (log: $nd/kafka.log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      tail -20 "$nd/kafka.log" >&2
      die "node $id not started in time (log: $nd/kafka.log)"
    fi
    sleep 0.2
  done
  echo "node $id up (pid $(cat "$nd/kafka.pid"))"
}
