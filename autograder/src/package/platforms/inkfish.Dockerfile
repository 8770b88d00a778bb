# The Inkfish grading image for heaplab: Inkfish's Debian base with a Rust
# toolchain (Inkfish's default image has none). Build it on the grading host
# and give its tag as the grade column's docker image:
#
#   docker build -t heaplab-grader -f inkfish.Dockerfile .
#
# Inkfish runs `perl test.pl` as the user `student` in /home/student, with
# one core, 300 s, a 512 MB home and no network: the grader tree brings its
# crates vendored, builds offline, and keeps temporary files in the home.
# python3, gzip and xz-utils: lesson 7 runs real programs (ls, sort, gzip,
# awk, sh, python3, xz) with the student's library preloaded.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gcc libc6-dev perl python3 tar gzip unzip xz-utils \
 && rm -rf /var/lib/apt/lists/*

# rustup installs the toolchain system-wide, readable by every user.
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0 \
 && chmod -R a+rX /usr/local/rustup /usr/local/cargo

RUN useradd --create-home --shell /bin/bash student
