#!/bin/sh
# CI for this exporter: the spec's located errors and warnings, the
# contract gate against metrics.lock, a run that reads no source, and the
# static binary to ship.
set -eu
cd "$(dirname "$0")"

# A bad spec fails here at metrics.yaml:LINE:COLUMN, and so does a change
# that breaks metrics.lock (accept one with `PME_LOCK=update cargo build`
# and commit the lock). Warnings are errors. (The spec is read when
# main.rs compiles; touching it makes cargo read the spec again.)
touch src/main.rs
PME_DENY_WARNINGS=1 cargo build

# What the spec's samples yield, with no source read.
./target/debug/NAME --replay --once > /dev/null

# The binary to ship: static, runs on any Linux host.
rustup target add x86_64-unknown-linux-musl
cargo build --release --target x86_64-unknown-linux-musl
ls -l target/x86_64-unknown-linux-musl/release/NAME
