//! Runs `cargo build` with JSON messages and reads what it says: the
//! programs and libraries it made, and each compiler error with the package
//! it belongs to (by the package's folder, so an error in the student's
//! crate is told apart from one in the kit).

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::progress::Counter;
use super::BuildOptions;
use crate::course::Course;
use crate::Fatal;

/// The cargo to run: the one running `grade` (`$CARGO`), else `cargo`.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// What one `cargo build` made and said.
#[derive(Debug, Default)]
pub struct CargoRun {
    pub success: bool,
    /// `(target name, files made)`: executables and libraries.
    pub artifacts: Vec<(String, Vec<PathBuf>)>,
    /// `(package folder, rendered error)`.
    pub errors: Vec<(PathBuf, String)>,
    pub stderr: String,
}

impl CargoRun {
    /// The file of target `name` whose name satisfies `is`.
    pub fn file(&self, name: &str, is: impl Fn(&Path) -> bool) -> Option<PathBuf> {
        self.artifacts
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, files)| files)
            .find(|f| is(f))
            .cloned()
    }

    /// The errors of the package in folder `dir`, and the others.
    pub fn errors_split(&self, dir: &Path) -> (Vec<String>, Vec<String>) {
        let (ours, theirs): (Vec<_>, Vec<_>) = self
            .errors
            .iter()
            .partition(|(pkg, _)| pkg.starts_with(dir));
        let text = |v: Vec<&(PathBuf, String)>| v.into_iter().map(|(_, e)| e.clone()).collect();
        (text(ours), text(theirs))
    }
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    package_id: Option<String>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
    #[serde(default)]
    executable: Option<PathBuf>,
    #[serde(default)]
    message: Option<Diagnostic>,
}

#[derive(Deserialize)]
struct Target {
    name: String,
}

#[derive(Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    rendered: Option<String>,
}

/// The folder of a package from its id (`path+file:///abs/dir#name@0.1.0`,
/// or the older `name 0.1.0 (path+file:///abs/dir)`); registry packages
/// give an empty path.
fn package_dir(id: &str) -> PathBuf {
    let url = match id.find("path+file://") {
        Some(at) => &id[at + "path+file://".len()..],
        None => return PathBuf::new(),
    };
    let end = url.find(['#', ')']).unwrap_or(url.len());
    PathBuf::from(&url[..end])
}

/// Runs `cargo build` with `args` (a manifest path among them) into
/// `target`, from `cwd` (the generated project), with the course's cargo
/// settings (a bundle's vendored crates, which cargo would not find from
/// `cwd` when the target folder is outside the course), showing it as
/// building `what` when `opts` asks for progress.
pub fn build(
    args: &[&str],
    target: &Path,
    cwd: &Path,
    course: &Course,
    opts: &BuildOptions,
    what: &str,
) -> Result<CargoRun, Fatal> {
    let mut cmd = Command::new(cargo());
    cmd.arg("build");
    let config = course.root.join(".cargo/config.toml");
    if config.is_file() {
        cmd.arg("--config").arg(config);
    }
    cmd.arg("--quiet")
        .arg(if opts.color {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        })
        .args(args)
        .arg("--target-dir")
        .arg(target)
        .current_dir(cwd)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if opts.offline {
        cmd.arg("--offline");
    }
    let mut child = cmd.spawn().map_err(|e| {
        Fatal::new(format!(
            "cannot run cargo ({}): {e}",
            cargo().to_string_lossy()
        ))
    })?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = stderr.read_to_end(&mut s);
        String::from_utf8_lossy(&s).into_owned()
    });
    let mut counter = opts
        .progress
        .then(|| Counter::on_terminal(cwd, what))
        .flatten();
    let mut stdout = String::new();
    if let Some(out) = child.stdout.take() {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if let Some(counter) = &mut counter {
                counter.line(&line);
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
    }
    let status = child
        .wait()
        .map_err(|e| Fatal::new(format!("cargo build did not finish: {e}")))?;
    if let Some(counter) = counter {
        counter.finish(status.success());
    }
    let mut run = read_messages(&stdout);
    run.success = status.success();
    run.stderr = err_thread.join().unwrap_or_default();
    Ok(run)
}

fn read_messages(stdout: &str) -> CargoRun {
    let mut run = CargoRun::default();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Message>(line) else {
            continue;
        };
        match msg.reason.as_str() {
            "compiler-artifact" => {
                let Some(target) = msg.target else { continue };
                let mut files = msg.filenames;
                files.extend(msg.executable);
                run.artifacts.push((target.name, files));
            }
            "compiler-message" => {
                let Some(m) = msg.message else { continue };
                if m.level != "error" && m.level != "error: internal compiler error" {
                    continue;
                }
                let dir = package_dir(msg.package_id.as_deref().unwrap_or(""));
                run.errors.push((dir, m.rendered.unwrap_or(m.message)));
            }
            _ => {}
        }
    }
    run
}

/// The first few errors, each cut to a screenful.
pub fn trim_errors(errors: &[String]) -> String {
    const MAX_ERRORS: usize = 6;
    const MAX_LINES: usize = 30;
    let real: Vec<&String> = errors
        .iter()
        .filter(|e| {
            let plain = anstream::adapter::strip_str(e).to_string();
            !plain.starts_with("error: aborting due to")
        })
        .collect();
    let mut out = String::new();
    for e in real.iter().take(MAX_ERRORS) {
        let lines: Vec<&str> = e.trim_end().lines().collect();
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(line);
            out.push('\n');
        }
        if lines.len() > MAX_LINES {
            out.push_str("   ... (cut)\n");
        }
        out.push('\n');
    }
    if real.len() > MAX_ERRORS {
        out.push_str(&format!(
            "... and {} more errors\n",
            real.len() - MAX_ERRORS
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_folders_come_from_both_id_formats() {
        assert_eq!(
            package_dir("path+file:///work/lessons/lesson4-free-list#lesson4@0.1.0"),
            PathBuf::from("/work/lessons/lesson4-free-list")
        );
        assert_eq!(
            package_dir("lesson4 0.1.0 (path+file:///work/lessons/lesson4-free-list)"),
            PathBuf::from("/work/lessons/lesson4-free-list")
        );
        assert_eq!(
            package_dir("registry+https://github.com/rust-lang/crates.io-index#libc@0.2.1"),
            PathBuf::new()
        );
    }
}
