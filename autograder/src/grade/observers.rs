//! What a grade shows as it goes: the human report streamed test by test,
//! or progress lines on stderr for the machine-read formats.

use super::{progress, Observer};
use crate::report::{human::Human, Graded};
use crate::runner::TestResult;

/// The human report, streamed as the tests finish.
pub struct HumanObserver(pub Human);

impl Observer for HumanObserver {
    fn did_not_compile(&mut self, graded: &Graded, errors: &str) {
        self.0.header(graded, graded.lesson.tests.len());
        self.0.compile_errors(graded, errors);
    }

    fn started(&mut self, graded: &Graded, tests: usize) {
        self.0.header(graded, tests);
    }

    fn test_done(&mut self, graded: &Graded, _index: usize, result: &TestResult) {
        self.0.test(graded, result);
    }
}

/// Progress lines on stderr for the machine-read formats.
pub struct Progress;

impl Observer for Progress {
    fn did_not_compile(&mut self, graded: &Graded, _errors: &str) {
        progress(&format!(
            "{} did not compile; every test scores 0",
            graded.lesson.id
        ));
    }

    fn started(&mut self, _graded: &Graded, tests: usize) {
        progress(&format!(
            "running {tests} test{}",
            if tests == 1 { "" } else { "s" }
        ));
    }

    fn test_done(&mut self, graded: &Graded, index: usize, r: &TestResult) {
        progress(&format!(
            "[{:>2}/{}] {:<15} {}",
            index + 1,
            graded.all_names.len(),
            r.outcome.label(),
            r.spec.name
        ));
    }
}
