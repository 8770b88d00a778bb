//! Exit codes, each process's own, written once.

/// `grade`: every test passed, full marks.
pub const FULL_MARKS: u8 = 0;
/// `grade`: graded, with points lost (including "did not compile").
pub const POINTS_LOST: u8 = 1;
/// `grade`: could not grade (bad input, a kit bug, a missing toolchain, a
/// test whose processes could not be started). A platform wrapper gives no
/// score from a grader that ended with anything but 0 or 1.
pub const CANNOT_GRADE: u8 = 2;

/// The checker: it ran the test and printed its outcome (passed or not).
pub const CHECKER_DONE: u8 = 0;
/// The checker could not run the test (bad arguments, no such test, its
/// own bug): the message is on its stderr.
pub const CHECKER_FAILED: u8 = 3;

/// The subject: started with arguments it does not understand.
pub const SUBJECT_USAGE: u8 = 2;
/// The subject: its channel to the checker broke (the checker is gone).
pub const SUBJECT_NO_CHECKER: u8 = 4;
