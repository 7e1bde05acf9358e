#!/usr/bin/env bash
# Every performance figure of docs/benchmarks.md, each beside its peer or
# its goal, measured in this one run:
#
#   bash bench/all.sh        # ~12 min on 2 cores; needs wrk,
#                            # prometheus-node-exporter, python3, curl and
#                            # the x86_64-unknown-linux-musl target
#
# It builds what it needs (in target/bench), starts pme, the raw-hyper
# ceiling and node_exporter on loopback ports the kernel picks, bounds every
# load run (DURATION), and stops everything it started on exit. The last
# thing printed is a markdown table: the rows docs/benchmarks.md records.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-1000}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/bench}
musl=x86_64-unknown-linux-musl

for tool in wrk prometheus-node-exporter curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk prometheus-node-exporter curl python3)"; exit 1; }
done
rustup target list --installed 2>/dev/null | grep -qx "$musl" || { echo "missing the $musl target (rustup target add $musl)"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
measure() { python3 bench/measure.py "$@"; }
rows=()
# row WHAT PME PEER RATIO GOAL
row() { rows+=("| $1 | $2 | $3 | $4 | $5 |"); printf '  %s: %s (peer %s, ratio %s; goal %s)\n' "$@"; }
mb() { awk -v kb="$1" 'BEGIN {printf "%.1f MB", kb / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

# Starts BINARY ARGS… on loopback ports the kernel picks; sets $pid and
# $addr (the /metrics listener).
start() {
  "$@" --web.listen-address=127.0.0.1:0 --health.listen-address=127.0.0.1:0 --log.level=warn &
  pid=$!
  pids+=("$pid")
  addr=127.0.0.1:$(measure port "$pid")
  for _ in $(seq 100); do curl -sf -o /dev/null "http://$addr/metrics" && return; sleep 0.05; done
  echo "$1 does not serve /metrics"; exit 1
}
stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
# RSS (anon + file, KiB) of PID after DURATION of wrk on URL.
loaded_rss() {
  wrk -t2 -c16 -d"$DURATION" "$2" >/dev/null
  sleep 1
  read -r anon file < <(measure rss "$1")
  echo $((anon + file)) "$anon" "$file"
}

echo "== builds"
cp metrics.yaml "$work/metrics.yaml"
PME_SPEC="$work/metrics.yaml" cargo build --release --quiet
sed -i "s/description: File handles the kernel has allocated.*/description: File handles the kernel has allocated ($(date +%s))./" "$work/metrics.yaml"
t0=$(date +%s%N)
PME_SPEC="$work/metrics.yaml" cargo build --release --quiet
rebuild=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.1f", ns / 1e9}')
cp "$CARGO_TARGET_DIR/release/pme" "$work/pme"
PME_SPEC="$work/metrics.yaml" cargo build --quiet
sed -i "s/description: File handles the kernel has allocated.*/description: File handles the kernel has allocated ($(date +%s%N))./" "$work/metrics.yaml"
t0=$(date +%s%N)
PME_SPEC="$work/metrics.yaml" cargo build --quiet
debug=$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.1f", ns / 1e9}')
cargo build --release --quiet --target "$musl"
cp "$CARGO_TARGET_DIR/$musl/release/pme" "$work/pme-musl"
PME_SPEC=benches/specs/series_10k.yaml cargo build --release --quiet
cp "$CARGO_TARGET_DIR/release/pme" "$work/pme-10k"
cargo build --profile dist --quiet --target "$musl"
cp "$CARGO_TARGET_DIR/$musl/dist/pme" "$work/pme-musl-dist"
cargo build --release --quiet --example hyper_ceiling --example start_probe
ceiling="$CARGO_TARGET_DIR/release/examples/hyper_ceiling"
start_probe="$CARGO_TARGET_DIR/release/examples/start_probe"

echo "== rows"
row "release rebuild after editing one description (s)" "$rebuild" "$debug (debug)" "$(ratio "$rebuild" "$debug")" "≤ 15"

# Memory: node_exporter under the same load is the peer.
node=$(command -v prometheus-node-exporter)
"$node" --web.listen-address=127.0.0.1:0 >/dev/null 2>&1 &
node_pid=$!
pids+=("$node_pid")
node_addr=127.0.0.1:$(measure port "$node_pid")
read -r node_rss _ < <(loaded_rss "$node_pid" "http://$node_addr/metrics")
for build in pme pme-musl; do
  start "$work/$build"
  read -r total anon file < <(loaded_rss "$pid" "http://$addr/metrics")
  goal=$([ "$build" = pme ] && echo "≤ 6 MB" || echo "≤ 5 MB")
  row "RSS, default spec, after $DURATION of scrapes ($build: anon $(mb "$anon") + file $(mb "$file"))" \
    "$(mb "$total")" "$(mb "$node_rss") (node_exporter)" "$(ratio "$total" "$node_rss")" "$goal"
  before=$total
  opened=$(measure idle "$addr" "$IDLE_CONNECTIONS" 12)
  # The binary returns freed memory every 10 s (runtime/src/allocator.rs).
  sleep 11
  read -r anon file < <(measure rss "$pid")
  row "RSS after $opened half-sent connections timed out ($build)" "$(mb $((anon + file)))" \
    "$(mb "$before") (before)" "$(ratio $((anon + file)) "$before")" "≤ 8 MB"
  stop "$pid"
done
start "$work/pme-10k"
read -r total anon file < <(loaded_rss "$pid" "http://$addr/metrics")
row "RSS, 10 000-series spec, after $DURATION of scrapes (anon $(mb "$anon"))" "$(mb "$total")" \
  "$(mb "$node_rss") (node_exporter)" "$(ratio "$total" "$node_rss")" "≤ 8 MB"

# Serving: CPU seconds per scrape, pme and the ceiling serving the same
# bytes (and node_exporter, which collects on every scrape).
curl -sf "http://$addr/metrics" > "$work/body.prom"
pme_pid=$pid pme_addr=$addr
"$ceiling" 127.0.0.1:0 "$work/body.prom" >/dev/null &
ceiling_pid=$!
pids+=("$ceiling_pid")
ceiling_addr=127.0.0.1:$(measure port "$ceiling_pid")
# CPU µs per request of PID over one wrk run on URL.
cpu_per_scrape() {
  local pid=$1 url=$2; shift 2
  local before after requests
  before=$(measure cpu "$pid")
  requests=$(wrk -t2 -c16 -d"$DURATION" "$@" "$url" | awk '/requests in/ {print $1}')
  after=$(measure cpu "$pid")
  awk -v a="$after" -v b="$before" -v n="$requests" 'BEGIN {printf "%.1f", (a - b) * 1e6 / n}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
# Three runs per server, alternated, so a slow moment of the machine falls
# on both; the medians are compared.
for mode in plain gzip; do
  header=()
  [ "$mode" = gzip ] && header=(-H "Accept-Encoding: gzip")
  ps=() cs=()
  for _ in 1 2 3; do
    ps+=("$(cpu_per_scrape "$pme_pid" "http://$pme_addr/metrics" "${header[@]}")")
    cs+=("$(cpu_per_scrape "$ceiling_pid" "http://$ceiling_addr/metrics" "${header[@]}")")
  done
  p=$(median "${ps[@]}") c=$(median "${cs[@]}")
  goal=$([ "$mode" = plain ] && echo "≤ 1.05" || echo "≤ 1.10")
  row "CPU µs per scrape of 10 000 series, $mode (median of 3 alternated runs: pme ${ps[*]}; ceiling ${cs[*]})" \
    "$p" "$c (ceiling)" "$(ratio "$p" "$c")" "$goal"
done
n=$(cpu_per_scrape "$node_pid" "http://$node_addr/metrics")
row "CPU µs per scrape, node_exporter's own ~1 000 series (reference)" "-" "$n (node_exporter)" "-" "-"
stop "$pme_pid"

# In-process benchmarks, each with its peer in the same process.
encode=$(cargo bench --quiet --bench encode 2>/dev/null)
pme_ns=$(awk '$1 == "pme" {print $4}' <<<"$encode")
client_ns=$(awk '$1 == "prometheus-client" {print $4}' <<<"$encode")
row "encode 10 000 series, ns per series" "$pme_ns" "$client_ns (prometheus-client)" "$(ratio "$client_ns" "$pme_ns")×" "≥ 10×"
reimport=$(cargo bench --quiet --bench reimport 2>/dev/null)
pme_mbs=$(awk -F'  +' '/node_exporter scrape/ && /lenient parse/ {print $3}' <<<"$reimport" | awk '{print $1}')
peer_mbs=$(awk -F'  +' '/node_exporter scrape/ && /prometheus-parse/ {print $3}' <<<"$reimport" | awk '{print $1}')
row "re-import parse, node_exporter ×100, MB/s" "$pme_mbs" "$peer_mbs (prometheus-parse)" "$(ratio "$pme_mbs" "$peer_mbs")×" "≥ 300"

size=$(stat -c %s "$work/pme-musl")
node_size=$(stat -c %s "$node")
row "static musl binary, default spec (bytes)" "$size" "$node_size (node_exporter)" "$(ratio "$size" "$node_size")" "≤ 5 500 000"
size=$(stat -c %s "$work/pme-musl-dist")
row "same, \`--profile dist\` (bytes)" "$size" "$node_size (node_exporter)" "$(ratio "$size" "$node_size")" "≤ 5 500 000"
startup=$("$start_probe" 10 "$work/pme")
once=()
for _ in $(seq 10); do
  t0=$(date +%s%N); "$work/pme" --once >/dev/null 2>&1 || true; once+=($(( ($(date +%s%N) - t0) / 1000 )))
done
once_ms=$(printf '%s\n' "${once[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", (v[5] + v[6]) / 2000}')
row "start to /ready (every group collected), median of 10 (ms)" "$startup" "$once_ms (pme --once, whole run)" "-" "≤ 10"

echo
echo "| what | pme | peer | ratio | goal |"
echo "| --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
