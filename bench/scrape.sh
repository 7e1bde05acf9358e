#!/usr/bin/env bash
# Scrape throughput with wrk: pme serving 10 000 series, against, in the
# same run, the raw-hyper ceiling (the same bytes from memory) and
# node_exporter (Debian's prometheus-node-exporter, its default collectors).
# Plain and gzip; prints req/s, p99 latency, bytes per answer and ratios.
#
#   bash bench/scrape.sh            # needs wrk and prometheus-node-exporter
#
# Every server listens on 127.0.0.1 only; each wrk run is bounded (DURATION).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/bench}

for tool in wrk prometheus-node-exporter curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk prometheus-node-exporter curl)"; exit 1; }
done

PME_SPEC=benches/specs/series_10k.yaml cargo build --release --quiet
cargo build --release --quiet --example hyper_ceiling
pme="$CARGO_TARGET_DIR/release/pme"
ceiling="$CARGO_TARGET_DIR/release/examples/hyper_ceiling"

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$pme" --web.listen-address=127.0.0.1:19966 --health.listen-address=127.0.0.1:19967 --log.level=warn &
pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null http://127.0.0.1:19967/ready && break; sleep 0.1; done
curl -sf http://127.0.0.1:19966/metrics > "$work/body.prom"
"$ceiling" 127.0.0.1:19968 "$work/body.prom" > /dev/null &
pids+=($!)
prometheus-node-exporter --web.listen-address=127.0.0.1:19969 > /dev/null 2>&1 &
pids+=($!)
for port in 19968 19969; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.1; done
done

# req/s and p99 (ms) of one wrk run.
measure() {
  local url=$1; shift
  local out rps p99
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
  echo "$rps $p99"
}
size() { curl -s -o /dev/null -w '%{size_download}' "$@"; }

printf '%-14s %-5s %10s %9s %10s\n' server mode "req/s" "p99 ms" "bytes"
declare -A rps
for mode in plain gzip; do
  header=()
  [ "$mode" = gzip ] && header=(-H "Accept-Encoding: gzip")
  for server in pme:19966 ceiling:19968 node_exporter:19969; do
    name=${server%%:*}; port=${server##*:}
    read -r r p < <(measure "http://127.0.0.1:$port/metrics" "${header[@]}")
    bytes=$(size "${header[@]}" "http://127.0.0.1:$port/metrics")
    rps[$name-$mode]=$r
    printf '%-14s %-5s %10s %9s %10s\n' "$name" "$mode" "$r" "$p" "$bytes"
  done
done
series=$(grep -vc '^#' "$work/body.prom")
node_series=$(curl -s http://127.0.0.1:19969/metrics | grep -vc '^#')
echo
echo "pme serves $series series; node_exporter $node_series (it collects on every scrape)."
for mode in plain gzip; do
  awk -v p="${rps[pme-$mode]}" -v c="${rps[ceiling-$mode]}" -v n="${rps[node_exporter-$mode]}" -v m="$mode" \
    'BEGIN { printf "%s: pme/ceiling %.2f, pme/node_exporter %.1f\n", m, p / c, p / n }'
done
