#!/usr/bin/env bash
# heaplab @LESSON@ external grader for PrairieLearn: grading (written by
# `grade package`).
#
# PrairieLearn starts the image and runs this, the question's `entrypoint`,
# with the student's files in /grade/student; the result goes to
# /grade/results/results.json. The grader tree (this script's folder) was
# built into the image by prairielearn-setup.sh, so a job compiles only the
# student's crate. HEAPLAB_PRAIRIELEARN_ROOT replaces /grade, to try the
# grader elsewhere.
#
# The student hands in the lesson crate (lessons/@DIR@/, as a folder or an
# archive: .tar, .tar.gz, .tgz, .zip) or its source files one by one, as
# the question's file upload names them (lib.rs, heap.rs, ...): each goes
# where the starter has a file of that name; a file left out is the
# starter's.
set -uo pipefail
root="${HEAPLAB_PRAIRIELEARN_ROOT:-/grade}"
tree="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
results="$root/results/results.json"
mkdir -p "$root/results"
rm -f "$results"
work="$(mktemp -d "${TMPDIR:-/tmp}/heaplab.XXXXXX")"
export PATH="$HOME/.cargo/bin:/usr/local/cargo/bin:$PATH" CARGO_NET_OFFLINE=true CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0
unset CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR HEAPLAB_MANIFEST
# A build folder kept between runs, where a host offers one (the kit's own
# tests share one between bundles); by default the tree's own target/.
[ -z "${HEAPLAB_TARGET_DIR:-}" ] || export CARGO_TARGET_DIR="$HEAPLAB_TARGET_DIR"

# `text` as a JSON string.
json_string() {
    printf '%s' "$1" | tr -d '\000-\010\013-\037' |
        sed 's/\\/\\\\/g; s/"/\\"/g; s/\t/ /g' |
        awk 'BEGIN { printf "\"" } NR > 1 { printf "\\n" } { printf "%s", $0 } END { printf "\"" }'
}

# Nothing could be graded: the attempt is not charged, and the reason shows.
not_gradable() {
    local why
    why="$(json_string "$1")"
    printf '{"gradable": false, "format_errors": [%s], "message": %s}\n' "$why" "$why" >"$results"
    exit 0
}

# Where the module `$2` goes in the crate at `$1`: beside the file that
# declares it if that is lib.rs, main.rs or a mod.rs, else in the folder
# named after that file; nothing if no file declares it.
module_place() {
    local decl
    decl="$(cd "$1" && grep -rlE "^[[:space:]]*(pub(\([a-z]+\))?[[:space:]]+)?mod[[:space:]]+$2[[:space:]]*;" src --include='*.rs' | head -n 1)"
    [ -n "$decl" ] || return 0
    case "$(basename "$decl")" in
        lib.rs | main.rs | mod.rs) echo "$(dirname "$decl")/$2.rs" ;;
        *) echo "${decl%.rs}/$2.rs" ;;
    esac
}

cd "$tree" || not_gradable "the grader is not installed in $tree (a problem with the grading image)"
cargo build --offline --quiet -p heaplab-autograder --bin grade 2>"$work/build.log" ||
    not_gradable "the grader did not build (a problem with the grading image): $(tail -n 20 "$work/build.log")"
grade="${CARGO_TARGET_DIR:-$tree/target}/debug/grade"

# The submission: an archive is unpacked; loose source files are put where
# the starter has them.
submitted="$root/student"
for archive in "$submitted"/*.zip "$submitted"/*.tar "$submitted"/*.tar.gz "$submitted"/*.tgz; do
    [ -f "$archive" ] || continue
    mkdir -p "$work/handin"
    case "$archive" in
        *.zip) unzip -q "$archive" -d "$work/handin" ;;
        *) tar -xf "$archive" -C "$work/handin" ;;
    esac || not_gradable "could not unpack $(basename "$archive")"
    submitted="$work/handin"
    break
done
if ! crate="$("$grade" locate @LESSON@ "$submitted" 2>"$work/locate.log")"; then
    crate="$work/@DIR@"
    cp -R "$tree/lessons/@DIR@" "$crate"
    found=0
    # The starter's files first, then files of the student's own modules,
    # each where a placed file declares it (`mod name;` in src/heap.rs puts
    # name.rs in src/heap/; in lib.rs or a mod.rs, beside it).
    for pass in starter own; do
        for file in "$submitted"/*.rs; do
            [ -f "$file" ] || continue
            name="$(basename "$file")"
            place="$(cd "$crate" && find src -name "$name" -type f | head -n 1)"
            if [ "$pass" = starter ]; then
                [ -n "$place" ] || continue
            else
                [ -z "$place" ] || continue
                place="$(module_place "$crate" "${name%.rs}")"
                [ -n "$place" ] || not_gradable "$name is not a file of @LESSON@'s crate and no file declares \`mod ${name%.rs};\` (its files: $(cd "$crate" && find src -name '*.rs' -type f -printf '%f ' | sort))"
                mkdir -p "$crate/$(dirname "$place")"
            fi
            cp "$file" "$crate/$place"
            found=1
        done
    done
    [ "$found" -eq 1 ] || not_gradable "$(cat "$work/locate.log")"
fi

# The grader writes its report to a file it renames into place once the
# grade is done; only a grader that finished (exit 0: full marks, 1: points
# lost) is believed, and only that file is read: nothing printed on the way,
# by the grader or by anything it ran, can stand in for a result.
report="$work/results.json"
"$grade" @LESSON@ --submission "$crate" --include-hidden --offline --format prairielearn \
    --output "$report" >"$work/grade.out" 2>"$work/grade.log"
status=$?
case "$status" in
    0 | 1) ;;
    *) not_gradable "the grader could not grade this submission (exit status $status): $(tail -n 20 "$work/grade.log")" ;;
esac
[ -s "$report" ] || not_gradable "the grader finished but wrote no report: $(tail -n 20 "$work/grade.log")"
mv "$report" "$results"
