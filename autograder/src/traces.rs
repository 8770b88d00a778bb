//! `grade traces --out DIR`: writes heaplab's generated workloads, the
//! trace files `grade bench` replays.

use std::path::PathBuf;
use std::process::ExitCode;

use heaplab_traces::generate;

use crate::{Fatal, EXIT_FULL_MARKS};

#[derive(clap::Args)]
pub struct Args {
    /// Folder to write `<workload>.rep` files to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Seed of the workloads (the committed traces/ use the default).
    #[arg(long, value_name = "N", default_value_t = generate::DEFAULT_SEED)]
    pub seed: u64,
}

/// `grade traces --out DIR [--seed N]`.
pub fn run(args: Args) -> Result<ExitCode, Fatal> {
    let written = generate::write_all(&args.out, args.seed).map_err(|e| {
        Fatal::new(format!(
            "cannot write the traces to {}: {e} (pick a folder you can write to)",
            args.out.display()
        ))
    })?;
    for (path, w) in written.iter().zip(generate::WORKLOADS) {
        println!("{:<40} {}", path.display(), w.about);
    }
    Ok(ExitCode::from(EXIT_FULL_MARKS))
}
