//! The leaderboard of a lesson with measured tests (lesson 8): one column
//! per `leaderboard` name in `course.toml`, holding the geometric mean of
//! the values its measured tests found. Gradescope shows it as the
//! assignment's leaderboard, Autolab as its scoreboard, and heaplab's JSON
//! (of `grade` and of `grade bench`) carries it.

use serde::Serialize;

use super::Graded;
use crate::course::Lesson;

/// One column of the leaderboard, as Gradescope reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub name: String,
    pub value: f64,
    /// `desc` when a larger value ranks higher, `asc` when a smaller does.
    pub order: &'static str,
}

/// The lesson's columns, in the order of their first test in the manifest,
/// and whether a larger value is better.
pub fn columns(lesson: &Lesson) -> Vec<(String, bool)> {
    let mut columns: Vec<(String, bool)> = Vec::new();
    for test in &lesson.tests {
        let Some(measure) = &test.measure else {
            continue;
        };
        let Some(name) = &measure.leaderboard else {
            continue;
        };
        if !columns.iter().any(|(n, _)| n == name) {
            columns.push((name.clone(), measure.higher_is_better()));
        }
    }
    columns
}

/// The entries of a graded run: every column of the lesson, each the
/// geometric mean of its tests' values (0 when none of them was measured,
/// or their points were withheld: a submission that fails the correctness
/// gate ranks last).
pub fn entries(graded: &Graded) -> Vec<Entry> {
    columns(graded.lesson)
        .into_iter()
        .map(|(name, higher)| {
            let values: Vec<f64> = graded
                .results
                .iter()
                .filter(|r| r.withheld.is_none())
                .filter(|r| {
                    r.spec
                        .measure
                        .as_ref()
                        .is_some_and(|m| m.leaderboard.as_deref() == Some(name.as_str()))
                })
                .filter_map(|r| r.outcome.measured().map(|m| m.value))
                .collect();
            Entry {
                value: geometric_mean(&values),
                name,
                order: if higher { "desc" } else { "asc" },
            }
        })
        .collect()
}

/// The geometric mean of `values` (0 for none, or when one is not positive).
pub fn geometric_mean(values: &[f64]) -> f64 {
    if values.is_empty() || values.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return 0.0;
    }
    let logs: f64 = values.iter().map(|v| v.ln()).sum();
    round((logs / values.len() as f64).exp())
}

/// Four decimals: enough to rank, and the same text run after run.
pub fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_the_geometric_mean_of_its_values() {
        assert_eq!(geometric_mean(&[2.0, 0.5]), 1.0);
        assert_eq!(geometric_mean(&[1.5]), 1.5);
        assert_eq!(geometric_mean(&[]), 0.0);
        assert_eq!(geometric_mean(&[1.0, 0.0]), 0.0);
    }
}
