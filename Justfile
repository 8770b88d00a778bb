# heaplab's everyday commands. `just` is optional: every recipe is one or two
# cargo commands you can also type yourself (get just: `pip install rust-just`
# or `cargo install just`).

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Grade a lesson: `just grade lesson4`, `just grade lesson4 --solution --test first_fit`.
grade lesson *args:
    cargo grade {{lesson}} {{args}}

# The kit's own tests (what CI runs).
test:
    cargo test --workspace

# clippy (all targets, warnings are errors) and the rustfmt check, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the whole workspace.
fmt:
    cargo fmt --all

# Regenerate solutions/ from reference/ (lessons 2 to 7) and lessons/ from
# solutions/, by their markers; `just stubs --check` only compares, `just stubs
# --measure` counts the reference code lesson crates repeat.
stubs *args:
    cargo run -q -p heaplab-autograder --bin grade -- stubs {{args}}

# Write a lesson's bundles to dist/<lesson>/: starter, Inkfish, Gradescope,
# Autolab, PrairieLearn, GitHub Classroom (`just package lesson1`, `just package all`).
package lesson *args:
    cargo run -q -p heaplab-autograder --bin grade -- package {{lesson}} {{args}}

# Grade a folder of submissions into a CSV gradebook and a report each
# (`just batch submissions/ --lesson lesson1 --jobs 2`).
batch dir *args:
    cargo run -q -p heaplab-autograder --bin grade -- batch {{dir}} {{args}}

# Build docs/ as a book (mdBook) into target/book/, installing mdbook first if
# it is missing; open target/book/index.html.
book:
    command -v mdbook >/dev/null || cargo install mdbook --locked --no-default-features --features search
    mdbook build docs

# Draw the pages' figures into docs/figures/ from the reference heaps: the heap
# after each page's sequence, and a footprint plot per lesson from 2 to 6
# (`cargo test -p heaplab-autograder --test figures` checks they are current).
figures *args:
    cargo run -q -p heaplab-autograder --example figures -- {{args}}

# How long `cargo grade lesson1 --solution` takes, unchanged and after touching a file.
bench:
    cargo bench -p heaplab-autograder --bench grade_time

# Each lesson's Inkfish bundle graded cold on one core, then with its build kept
# (docs/instructors.md, "Time limits"): `just bench-bundles`, or
# `HEAPLAB_BENCH_LESSONS=lesson7 just bench-bundles`.
bench-bundles:
    cargo bench -p heaplab-autograder --bench bundle_time

# The lesson 4-6 reference heaps against the system allocator on traces/ (docs/performance.md).
bench-traces *args:
    cargo bench -p heaplab-suites --bench traces -- {{args}}

# First, next and best fit on traces/, lessons 4 and 5's reference heaps
# (docs/lesson4.md): utilization and free chunks read per malloc.
fits *args:
    cargo run -q -p heaplab-suites --example fits -- {{args}}

# Lesson 7's library against the system allocator under LD_PRELOAD (docs/performance.md).
bench-preload:
    cargo bench -p heaplab-suites --bench lesson7_drop_in

# Lesson 8's reference against the system allocator and lesson 7's library:
# the Collatz programs, the traces, real programs (docs/performance.md).
bench-fast *args:
    cargo bench -p heaplab-suites --bench lesson8_fast -- {{args}}

# Replay traces/ against a lesson's heap: `just bench-lesson lesson6 --plot footprint.svg`.
bench-lesson lesson *args:
    cargo run -q -p heaplab-autograder --bin grade -- bench {{lesson}} {{args}}

# Run a lesson's suite in-process under Miri against your crate (lessons/),
# or the reference with --solution: `just miri lesson4`, one test:
# `just miri lesson4 --test first_fit`, the reference: `just miri lesson4 --solution`.
miri lesson *args:
    #!/usr/bin/env bash
    set -euo pipefail
    if ! cargo +nightly miri --version >/dev/null 2>&1 \
        || ! rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src'; then
        echo "Miri is not installed. Install it with:" >&2
        echo "    rustup toolchain install nightly" >&2
        echo "    rustup +nightly component add miri rust-src" >&2
        exit 2
    fi
    variant=()
    rest=()
    for arg in {{args}}; do
        if [ "$arg" = --solution ]; then variant=(--solution); else rest+=("$arg"); fi
    done
    # The local harness's project: the lesson's suite and the crate in one program.
    manifest="$(cargo grade {{lesson}} "${variant[@]}" --local-project)"
    target="${CARGO_TARGET_DIR:-$(cargo metadata --no-deps --format-version=1 | sed 's/.*"target_directory":"\([^"]*\)".*/\1/')}"
    # The utilization tests replay whole traces: hours under Miri, and the
    # malloc/free they call are the ones every other test checks there.
    MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}" cargo +nightly miri run \
        --manifest-path "$manifest" --target-dir "$target/heaplab/miri" -- --all --skip utilization "${rest[@]}"
