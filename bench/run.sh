#!/usr/bin/env bash
# Runs one benchmark main with the bench module's classpath, from the repository root.
# usage: bench/run.sh NAME [--option value ...]     NAME: codec | capture | lag | catchup | faults | audit
# The module and every module it uses are compiled first from this checkout (offline reactor
# build, nothing installed), so a run measures the code checked out here. JVM options: BENCH_JAVA_OPTS.
set -euo pipefail

repo=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
name=${1:-}
case $name in
  codec) main=CodecBench ;;
  capture) main=CaptureBench ;;
  lag) main=LagBench ;;
  catchup) main=CatchupBench ;;
  faults) main=BrokerFaultBench ;;
  audit) main=AuditBench ;;
  *) echo "usage: bench/run.sh codec|capture|lag|catchup|faults|audit [--option value ...] (see bench/README.md)" >&2; exit 2 ;;
esac
shift

cd "$repo"
classpath=$repo/bench/target/classpath.txt
# -am: the reactor resolves the other modules to their target/classes of this checkout.
mvn -B -q -o -pl bench -am compile dependency:build-classpath \
    -Dmdep.outputFile="$classpath" -Dmdep.includeScope=runtime >&2
# The codec benchmark reads Cyrus's transcripts from the shared reference folder, as the tests do.
export MAILSTREAM_SHARED=${MAILSTREAM_SHARED:-$repo/../shared}
# Word splitting of BENCH_JAVA_OPTS is intended: it holds several options.
# shellcheck disable=SC2086
exec java ${BENCH_JAVA_OPTS:--Xmx2g} -Dmailstream.bench.results="$repo/bench/results" \
    -cp "$repo/bench/target/classes:$(cat "$classpath")" "io.mailstream.bench.$main" "$@"
