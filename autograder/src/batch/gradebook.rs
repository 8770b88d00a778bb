//! The batch's gradebook, `grades.csv`: one row per submission.

use std::path::Path;

use super::Row;
use crate::course::Lesson;
use crate::Fatal;

/// `grades.csv`: submission, lesson, status, score, max, one column per test
/// (points earned, empty when not graded), message.
pub(super) fn write_csv(path: &Path, lesson: &Lesson, rows: &[Row]) -> Result<(), Fatal> {
    let fail = |e: csv::Error| Fatal::new(format!("cannot write {}: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(fail)?;
    let mut header = vec!["submission", "lesson", "status", "score", "max"];
    header.extend(lesson.tests.iter().map(|t| t.name.as_str()));
    header.push("message");
    w.write_record(&header).map_err(fail)?;
    for row in rows {
        let mut record = vec![
            row.submission.clone(),
            lesson.id.clone(),
            row.status.as_str().to_string(),
            row.score.to_string(),
            lesson.max_points().to_string(),
        ];
        record.extend(lesson.tests.iter().map(|t| {
            row.earned
                .get(&t.name)
                .map(u32::to_string)
                .unwrap_or_default()
        }));
        record.push(first_line(&row.message).to_string());
        w.write_record(&record).map_err(fail)?;
    }
    w.flush()
        .map_err(|e| Fatal::new(format!("cannot write {}: {e}", path.display())))
}

/// The first line of a message, for one cell or one line of progress.
pub(super) fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
