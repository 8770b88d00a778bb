#!/usr/bin/env bash
# heaplab @LESSON@ grader for Autolab (written by `grade package`): unpacks
# the handin (tar, tar.gz or zip) into handin/, builds the student's src/
# with the grader's tests, offline, and prints the report; its last line is
# Autolab's score line. Run from the folder Autolab grades in.
set -uo pipefail
work="$(pwd)"
tree="$work/heaplab"
export PATH="$HOME/.cargo/bin:/usr/local/cargo/bin:$PATH" CARGO_NET_OFFLINE=true CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR HEAPLAB_MANIFEST
# A build folder kept between runs, where a host offers one (the kit's own
# tests share one between bundles); by default the tree's own target/.
[ -z "${HEAPLAB_TARGET_DIR:-}" ] || export CARGO_TARGET_DIR="$HEAPLAB_TARGET_DIR"

# Nothing could be graded: every problem scores 0.
zero() {
    echo "$1"
    local scores="" name
    for name in @TESTS@; do scores="$scores${scores:+, }\"$name\": 0"; done
    echo "{\"scores\": {$scores}}"
    exit 0
}

rm -rf "$work/handin"
mkdir -p "$work/handin"
handin=""
for f in "$work"/handin.*; do [ -f "$f" ] && handin="$f" && break; done
[ -n "$handin" ] || zero "no handin file (handin.tar, handin.tar.gz or handin.zip) in $work"
case "$handin" in
    *.zip) unzip -q "$handin" -d "$work/handin" ;;
    *) tar -xf "$handin" -C "$work/handin" ;;
esac || zero "could not unpack $(basename "$handin")"

cd "$tree" || zero "no grader tree in $tree"
cargo build --offline --quiet -p heaplab-autograder --bin grade 2>"$work/build.log" ||
    zero "the grader did not build (a problem with the grading image): $(tail -n 20 "$work/build.log")"
grade="${CARGO_TARGET_DIR:-$tree/target}/debug/grade"
crate="$("$grade" locate @LESSON@ "$work/handin" 2>&1)" || zero "$crate"
# The grader writes its report to a file it renames into place once the
# grade is done; only a grader that finished (exit 0: full marks, 1: points
# lost) is believed, and only that file is printed: nothing printed on the
# way, by the grader or by anything it ran, can stand in for the score line.
report="$work/heaplab-report.txt"
rm -f "$report"
"$grade" @LESSON@ --submission "$crate" --include-hidden --offline --format autolab \
    --output "$report" >"$work/grade.out" 2>"$work/grade.log"
status=$?
case "$status" in
    0 | 1) ;;
    *) zero "the grader could not grade this submission (exit status $status): $(tail -n 20 "$work/grade.log")" ;;
esac
[ -s "$report" ] || zero "the grader finished but wrote no report: $(tail -n 20 "$work/grade.log")"
cat "$report"
