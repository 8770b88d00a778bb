//! The GitHub Classroom template repository of a lesson: the starter, plus a
//! workflow that grades every push with the classroom autograding actions.
//!
//! `autograding-command-grader` passes or fails one command (exit code 0
//! earns its `max-score`, nothing else does), so the workflow has one step
//! per test of the lesson, worth the test's points, and the reporter step
//! sums them for the Classroom dashboard. Hidden tests are not in a
//! student's repository, so they are not graded here.
//!
//! Everything in the repository is the student's to change, the workflow
//! included: the steps grade the student's `src/` with the kit as the
//! template's first commit holds it (unpacked outside the repository, so no
//! file the student adds or edits steers the build), which stops casual
//! forging, not a student who rewrites the workflow or the history.

use crate::course::{Course, Lesson};

/// The actions the workflow uses, as GitHub Classroom's own workflows name them.
pub const COMMAND_GRADER: &str = "classroom-resources/autograding-command-grader@v1";
pub const REPORTER: &str = "classroom-resources/autograding-grading-reporter@v1";

/// Where the steps unpack the template's kit, outside the repository.
const KIT: &str = "$HOME/heaplab";

/// `.github/workflows/classroom.yml` for `lesson`.
pub fn workflow(course: &Course, lesson: &Lesson) -> String {
    let tests: Vec<_> = lesson.tests.iter().filter(|t| !t.hidden).collect();
    let default = course.manifest.defaults.timeout;
    let minutes: Vec<u32> = tests
        .iter()
        .enumerate()
        .map(|(i, t)| step_minutes(t.timeout.unwrap_or(default), i == 0))
        .collect();
    let mut out = format!(
        "# heaplab {id} ({title}): GitHub Classroom autograding, written by `grade package`.\n\
         # One step per test, worth its points in course.toml; the reporter adds them up.\n\
         # Each step grades lessons/{dir}/src with the kit of this repository's first\n\
         # commit (the template's), unpacked in {KIT}.\n\
         name: heaplab autograding\n\
         \"on\":\n  - push\n  - workflow_dispatch\n  - repository_dispatch\n\
         permissions:\n  checks: write\n  actions: read\n  contents: read\n\
         jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n\
         \x20   if: github.actor != 'github-classroom[bot]'\n    timeout-minutes: {job_minutes}\n\
         \x20   steps:\n\
         \x20     - name: Checkout code\n        uses: actions/checkout@v4\n\
         \x20       with:\n          fetch-depth: 0\n\
         \x20     - name: Restore the build\n        id: restore\n\
         \x20       uses: actions/cache/restore@v4\n        with:\n{CACHE_PATHS}\
         \x20         key: heaplab-{id}-${{{{ runner.os }}}}-${{{{ hashFiles('Cargo.lock') }}}}\n",
        id = lesson.id,
        title = lesson.title,
        dir = lesson.dir,
        job_minutes = minutes.iter().sum::<u32>(),
    );
    for (i, test) in tests.iter().enumerate() {
        out.push_str(&step(lesson, test, i == 0, minutes[i]));
    }
    out.push_str(&format!(
        "      - name: Save the build\n\
         \x20       if: always() && steps.restore.outputs.cache-hit != 'true'\n\
         \x20       uses: actions/cache/save@v4\n        with:\n{CACHE_PATHS}\
         \x20         key: ${{{{ steps.restore.outputs.cache-primary-key }}}}\n\
         \x20     - name: Autograding Reporter\n        uses: {REPORTER}\n        env:\n",
    ));
    for test in &tests {
        out.push_str(&format!(
            "          {}_RESULTS: \"${{{{steps.{}.outputs.result}}}}\"\n",
            test.name.to_uppercase(),
            test.name
        ));
    }
    let ids: Vec<&str> = tests.iter().map(|t| t.name.as_str()).collect();
    out.push_str(&format!(
        "        with:\n          runners: {}\n",
        ids.join(",")
    ));
    out
}

/// The `path:` lines of the build cache: cargo's downloads and the kit's
/// build folder.
const CACHE_PATHS: &str =
    "          path: |\n            ~/.cargo/registry\n            ~/heaplab/target\n";

/// Minutes a step may take: the test's own limit (`seconds`), rounded up,
/// plus 4 for building the student's crate, or 20 for the first step,
/// which builds everything when the cache is cold.
fn step_minutes(seconds: f64, first: bool) -> u32 {
    let own = (seconds / 60.0).ceil().max(1.0) as u32;
    own + if first { 20 } else { 4 }
}

/// One command-grader step: the test `name`, run alone, exact, within
/// `minutes`.
fn step(
    lesson: &Lesson,
    test: &heaplab_protocol::manifest::TestSpec,
    first: bool,
    minutes: u32,
) -> String {
    let quote = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let mut out = format!(
        "      - name: {name}\n        id: {name}\n        uses: {COMMAND_GRADER}\n        with:\n\
         \x20         test-name: {title}\n",
        name = test.name,
        title = quote(&format!("{} ({})", test.title, test.name)),
    );
    if first {
        // The kit as the template's first commit holds it; the build
        // folder restored from the cache stays.
        let setup = format!(
            "mkdir -p \"{KIT}\" && git archive --format=tar \
             \"$(git rev-list --max-parents=0 HEAD | tail -n 1)\" | tar -xf - -C \"{KIT}\""
        );
        out.push_str(&format!("          setup-command: {}\n", quote(&setup)));
    }
    let command = format!(
        "submission=\"$PWD/lessons/{dir}\" && cd \"{KIT}\" && \
         cargo grade {id} --submission \"$submission\" --test {name} --exact",
        dir = lesson.dir,
        id = lesson.id,
        name = test.name,
    );
    out.push_str(&format!(
        "          command: {}\n          timeout: {}\n          max-score: {}\n",
        quote(&command),
        minutes,
        test.points
    ));
    out
}

/// The template's README: the starter's, and how grading works there.
pub fn readme(lesson: &Lesson, starter_readme: &str) -> String {
    format!(
        "{starter_readme}\n## Grading on GitHub\n\n\
         Every push runs `.github/workflows/classroom.yml`: one step per test of\n\
         `course.toml`, each worth its points; the Actions tab shows each test's\n\
         report and the total. It grades `lessons/{dir}/src` only, with the kit as\n\
         this repository started, so run `cargo grade {id}` before you push: it\n\
         gives the same verdicts.\n",
        dir = lesson.dir,
        id = lesson.id,
    )
}

#[cfg(test)]
mod tests {
    use super::step_minutes;

    #[test]
    fn a_step_outlasts_its_tests_own_limit() {
        assert_eq!(step_minutes(10.0, false), 5);
        assert_eq!(step_minutes(10.0, true), 21);
        // Lesson 7's real programs may take their whole 600 s.
        assert_eq!(step_minutes(600.0, false), 14);
        assert_eq!(step_minutes(601.0, false), 15);
    }
}
