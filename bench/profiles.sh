#!/usr/bin/env bash
# Release-profile options, measured on the three things they trade:
# the rebuild after a spec edit, the binary's size, and the encode and
# scrape benchmarks. Each option builds in a target directory of its own
# (target/profiles/NAME), so every rebuild is warm.
#
#   bash bench/profiles.sh                # every option
#   bash bench/profiles.sh off-16 fat-1   # some of them
#
# An option is LTO-CODEGEN_UNITS, applied with cargo's
# CARGO_PROFILE_RELEASE_* variables (the bench profile inherits them).
set -euo pipefail
cd "$(dirname "$0")/.."
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(fat-1 thin-16 off-16 off-1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp metrics.yaml "$work/metrics.yaml"

printf '%-8s %12s %12s %14s %14s %12s\n' option "rebuild s" "binary B" "encode ratio" "plain/ceiling" "gzip/ceiling"
for option in "${options[@]}"; do
  lto=${option%-*} cgu=${option#*-}
  [ "$lto" = fat ] && lto=true
  export CARGO_PROFILE_RELEASE_LTO=$lto CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$cgu
  export CARGO_TARGET_DIR=target/profiles/$option
  # The spec edit loop: a warm build, one description changed, rebuilt.
  PME_SPEC="$work/metrics.yaml" cargo build --release --quiet
  sed -i "s/description: File handles the kernel has allocated.*/description: File handles the kernel has allocated ($(date +%s%N))./" "$work/metrics.yaml"
  start=$(date +%s%N)
  PME_SPEC="$work/metrics.yaml" cargo build --release --quiet
  rebuild=$(( ($(date +%s%N) - start) / 1000000 ))
  size=$(stat -c %s "$CARGO_TARGET_DIR/release/pme")
  encode=$(cargo bench --quiet --bench encode 2>/dev/null | awk '/ratio/ {print $NF}')
  scrape=$(bash bench/scrape.sh 2>/dev/null)
  plain=$(awk '/^plain:/ {print $3}' <<<"$scrape" | tr -d ,)
  gzip=$(awk '/^gzip:/ {print $3}' <<<"$scrape" | tr -d ,)
  printf '%-8s %12.1f %12s %14s %14s %12s\n' "$option" "$(awk -v ms="$rebuild" 'BEGIN {print ms / 1000}')" "$size" "$encode" "$plain" "$gzip"
done
