//! `grade status`: every lesson of the student's own crates, its last score
//! and when, and the next thing to do. It shows what earlier grades found
//! (each `cargo grade lessonN` keeps its result, [`record`]) and builds
//! nothing, unless `--refresh` grades every lesson again first.

pub mod board;
pub mod record;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::build::{self, BuildOptions};
use crate::course::Course;
use crate::grade::{self, Quiet};
use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// Grade every lesson's crate again first (builds what changed).
    #[arg(long)]
    pub refresh: bool,

    /// With --refresh: build without touching the network.
    #[arg(long)]
    pub offline: bool,
}

pub fn run(args: Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    let course = Course::locate(manifest)?;
    if args.refresh {
        refresh(&course, manifest, args.offline)?;
    }
    let folder = record::folder(&build::target_dir(&course), &course);
    let rows: Vec<board::Row> = course
        .manifest
        .lessons
        .iter()
        .filter(|l| l.has_suite())
        .map(|lesson| board::Row {
            lesson,
            record: record::load(&folder, lesson),
        })
        .collect();
    let mut out = anstream::stdout();
    board::print(&mut out, &course, &rows)
        .and_then(|()| out.flush())
        .map_err(|e| Fatal::new(format!("cannot write the board: {e}")))?;
    Ok(ExitCode::SUCCESS)
}

/// Grades every lesson that has a crate in `lessons/`, one after another,
/// saying which on stderr.
fn refresh(course: &Course, manifest: Option<&Path>, offline: bool) -> Result<(), Fatal> {
    let options = BuildOptions {
        offline,
        color: false,
        progress: true,
    };
    for lesson in course.manifest.lessons.iter().filter(|l| l.has_suite()) {
        if !course.student_dir(lesson).join("Cargo.toml").is_file() {
            continue;
        }
        grade::progress(&format!("grading {} …", lesson.id));
        let args = grade::Args {
            lesson: Some(lesson.id.clone()),
            ..grade::Args::default()
        };
        let job = grade::job(course, &args, manifest)?;
        grade::grade(&job, &options, &mut Quiet)?;
    }
    Ok(())
}
