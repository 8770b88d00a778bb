#!/usr/bin/env bash
# heaplab @LESSON@ external grader for PrairieLearn: image setup (written by
# `grade package`).
#
# The image's Dockerfile copies the grader tree (this script's folder) to
# /heaplab and runs this once: it builds the grader and the lesson's
# dependencies, offline from the vendored crates, so that grading a
# submission compiles only the student's crate.
set -euo pipefail
tree="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$HOME/.cargo/bin:/usr/local/cargo/bin:$PATH" CARGO_NET_OFFLINE=true
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR HEAPLAB_MANIFEST
# A build folder kept between runs, where a host offers one (the kit's own
# tests share one between bundles); by default the tree's own target/.
[ -z "${HEAPLAB_TARGET_DIR:-}" ] || export CARGO_TARGET_DIR="$HEAPLAB_TARGET_DIR"

cd "$tree"
cargo build --offline --quiet -p heaplab-autograder --bin grade
# Grades the stub once: builds every crate the grade links, so a
# submission's build reuses them. The stub loses points, hence `|| true`.
"${CARGO_TARGET_DIR:-./target}/debug/grade" @LESSON@ --offline --format json --output /dev/null >/dev/null 2>&1 || true
