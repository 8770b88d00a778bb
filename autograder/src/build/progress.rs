//! The build's progress, as a bar on the terminal: crates compiled out of
//! the total, read from cargo's JSON messages. A grade whose crates are all
//! built shows nothing; the first grade of a fresh clone, which compiles the
//! suites and their libraries once, shows the bar and says it happens once.
//!
//! The total is what the last complete build of the project counted (kept
//! in `<project>/.units`); before any, an estimate from `cargo metadata`:
//! each package of the project's dependency graph, twice for those with a
//! build script.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;

use super::cargo::cargo;

/// One build's count, as cargo's messages arrive, and its bar once a crate
/// is really compiled.
pub struct Counter {
    /// What is being built, in a few words (`the checker`).
    what: String,
    project: PathBuf,
    units: u64,
    bar: Option<ProgressBar>,
}

#[derive(Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    fresh: bool,
}

impl Counter {
    /// The count of one cargo build of the project in `project`, shown as
    /// building `what`; `None` unless stderr is a terminal.
    pub fn on_terminal(project: &Path, what: &str) -> Option<Counter> {
        use std::io::IsTerminal;
        std::io::stderr().is_terminal().then(|| Counter {
            what: what.to_string(),
            project: project.to_path_buf(),
            units: 0,
            bar: None,
        })
    }
}

impl Counter {
    /// One line of cargo's output: a unit built (or found fresh) counts; the
    /// bar appears with the first unit that is really compiled.
    pub fn line(&mut self, line: &str) {
        let Ok(msg) = serde_json::from_str::<Message>(line) else {
            return;
        };
        if msg.reason != "compiler-artifact" {
            return;
        }
        self.units += 1;
        if self.bar.is_none() && !msg.fresh {
            self.bar = Some(self.start());
        }
        if let Some(bar) = &self.bar {
            bar.set_position(self.units.min(bar.length().unwrap_or(u64::MAX)));
        }
    }

    fn start(&self) -> ProgressBar {
        let remembered = remembered(&self.project);
        let total = remembered
            .or_else(|| estimate(&self.project))
            .unwrap_or(100)
            .max(self.units);
        let bar = ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr_with_hz(8),
        );
        bar.set_style(
            ProgressStyle::with_template("compiling {bar:24} {pos}/{len} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let once = if remembered.is_none() {
            ": the first grade builds them once; later grades rebuild only what changed"
        } else {
            ""
        };
        bar.set_message(format!("{}{once}", self.what));
        bar.enable_steady_tick(Duration::from_millis(250));
        bar.set_position(self.units);
        bar
    }

    /// The build is over: the bar goes, and a complete build's count is kept
    /// as the next build's total.
    pub fn finish(self, success: bool) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        if success {
            let _ = std::fs::write(self.project.join(".units"), self.units.to_string());
        }
    }
}

fn remembered(project: &Path) -> Option<u64> {
    std::fs::read_to_string(project.join(".units"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Units of the project's build, counted from `cargo metadata`: a unit per
/// package, two for a package with a build script.
fn estimate(project: &Path) -> Option<u64> {
    #[derive(Deserialize)]
    struct Metadata {
        packages: Vec<Package>,
        resolve: Option<Resolve>,
    }
    #[derive(Deserialize)]
    struct Package {
        id: String,
        targets: Vec<Target>,
    }
    #[derive(Deserialize)]
    struct Target {
        kind: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Resolve {
        nodes: Vec<Node>,
    }
    #[derive(Deserialize)]
    struct Node {
        id: String,
    }
    let out = Command::new(cargo())
        .args([
            "metadata",
            "--format-version=1",
            "--offline",
            "--manifest-path",
        ])
        .arg(project.join("Cargo.toml"))
        .args(host_filter())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let meta: Metadata = serde_json::from_slice(&out.stdout).ok()?;
    let nodes = meta.resolve?.nodes;
    let units = nodes
        .iter()
        .filter_map(|n| meta.packages.iter().find(|p| p.id == n.id))
        .map(|p| {
            let script = p
                .targets
                .iter()
                .any(|t| t.kind.iter().any(|k| k == "custom-build"));
            if script {
                2
            } else {
                1
            }
        })
        .sum();
    Some(units)
}

/// `--filter-platform <host>`, so that other systems' dependencies are not
/// counted.
fn host_filter() -> Vec<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(out) = Command::new(rustc).arg("-vV").output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|host| vec!["--filter-platform".to_string(), host.trim().to_string()])
        .unwrap_or_default()
}
