//! `grade batch DIR`: grades every submission folder under DIR.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::Fatal;

#[derive(clap::Args)]
pub struct Args {
    /// A folder holding one folder per submission.
    pub dir: PathBuf,
}

pub fn run(args: Args, _manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    Err(Fatal::new(format!(
        "grade batch {}: not built yet",
        args.dir.display()
    )))
}
