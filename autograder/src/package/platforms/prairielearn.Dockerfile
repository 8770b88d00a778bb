# The PrairieLearn external-grader image for heaplab @LESSON@ (written by
# `grade package`). Build it from the folder holding this file and heaplab/,
# push it where your PrairieLearn pulls images from, and name it in the
# question's info.json:
#
#   docker build -t YOUR/heaplab-@LESSON@ -f Dockerfile .
#   docker push YOUR/heaplab-@LESSON@
#
# PrairieLearn runs /heaplab/prairielearn-grade.sh (the question's
# entrypoint) with the submission in /grade/student and networking off:
# the grader tree brings its crates vendored, and this image holds them
# built, so a job compiles only the student's crate.
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gcc libc6-dev python3 tar gzip unzip xz-utils \
 && rm -rf /var/lib/apt/lists/*

ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
RUN curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain 1.95.0 \
 && chmod -R a+rX /usr/local/rustup /usr/local/cargo

COPY heaplab /heaplab
RUN bash /heaplab/prairielearn-setup.sh
