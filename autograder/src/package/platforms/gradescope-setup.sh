#!/usr/bin/env bash
# heaplab @LESSON@ autograder for Gradescope: image setup (written by `grade package`).
#
# Gradescope runs this once, as root, when it builds the autograder image,
# with the zip unpacked in /autograder/source. It installs a Rust toolchain
# (the only download: every crate is vendored in heaplab/vendor) and builds
# the grader and the lesson's dependencies, so grading a submission only
# compiles the student's crate.
set -euo pipefail
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v cargo >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo" ]; then
    apt-get update
    apt-get install -y --no-install-recommends ca-certificates curl gcc libc6-dev
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0
fi
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR
# A build folder kept between runs, where a host offers one (the kit's own
# tests share one between bundles); by default the tree's own target/.
[ -z "${HEAPLAB_TARGET_DIR:-}" ] || export CARGO_TARGET_DIR="$HEAPLAB_TARGET_DIR"

cd "$source_dir/heaplab"
cargo build --offline --quiet -p heaplab-autograder --bin grade
# Grades the stub once: builds the checker and every crate the student's
# program links, so a submission's build reuses them. The stub loses points, hence `|| true`.
"${CARGO_TARGET_DIR:-./target}/debug/grade" @LESSON@ --offline --format json --output /dev/null >/dev/null 2>&1 || true
