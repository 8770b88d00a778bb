//! Which saves start a new grade: a debounced watch of the crate's `src/`
//! and `Cargo.toml` (the `notify` crate and its full debouncer), falling back to polling where
//! file events do not arrive (Windows folders under WSL's `/mnt`, network
//! file systems), or when asked to (`--poll`).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, NoCache};

use crate::Fatal;

/// Saves closer together than this make one grade (an editor writes a file
/// in several steps; "save all" writes several files).
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// How often the polling watcher looks at the files.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// A running watch; dropping it stops it.
pub enum Watch {
    Events(Debouncer<RecommendedWatcher, NoCache>),
    Polling(Debouncer<PollWatcher, NoCache>),
}

impl Watch {
    /// How the watch learns of saves, for the screen.
    pub fn how(&self) -> &'static str {
        match self {
            Watch::Events(_) => "file events",
            Watch::Polling(_) => "polling every 0.5 s",
        }
    }
}

/// Watches the crate in `dir`; each save of a source file (after the
/// debounce) sends `()` on `saved`.
pub fn watch(dir: &Path, poll: bool, saved: Sender<()>) -> Result<Watch, Fatal> {
    if !(poll || events_do_not_arrive(dir)) {
        if let Ok(debouncer) = start::<RecommendedWatcher>(dir, &saved, notify::Config::default()) {
            return Ok(Watch::Events(debouncer));
        }
        // inotify may be out of watches, or absent: polling still works.
    }
    let config = notify::Config::default().with_poll_interval(POLL_EVERY);
    start::<PollWatcher>(dir, &saved, config)
        .map(Watch::Polling)
        .map_err(|e| Fatal::new(format!("cannot watch {}: {e}", dir.display())))
}

fn start<W: Watcher>(
    dir: &Path,
    saved: &Sender<()>,
    config: notify::Config,
) -> notify::Result<Debouncer<W, NoCache>> {
    let handler = handler(dir, saved.clone());
    let mut debouncer = new_debouncer_opt::<_, W, _>(DEBOUNCE, None, handler, NoCache, config)?;
    debouncer.watch(dir.join("src"), RecursiveMode::Recursive)?;
    let manifest = dir.join("Cargo.toml");
    if manifest.is_file() {
        debouncer.watch(&manifest, RecursiveMode::NonRecursive)?;
    }
    Ok(debouncer)
}

/// Sends `()` for a batch of events that changed a source file. Reads do
/// not count: the grade itself reads every file (and bumps access times).
fn handler(dir: &Path, saved: Sender<()>) -> impl FnMut(DebounceEventResult) + Send + 'static {
    let dir: PathBuf = dir.to_path_buf();
    move |events: DebounceEventResult| {
        let Ok(events) = events else { return };
        let changed = events.iter().any(|e| {
            let kind = matches!(
                e.kind,
                EventKind::Create(_)
                    | EventKind::Remove(_)
                    | EventKind::Modify(
                        ModifyKind::Data(_) | ModifyKind::Name(_) | ModifyKind::Any
                    )
            );
            kind && e.paths.iter().any(|p| is_source(&dir, p))
        });
        if changed {
            let _ = saved.send(());
        }
    }
}

/// A Rust file under `src/`, or the crate's `Cargo.toml` (not an editor's
/// swap or backup file).
fn is_source(dir: &Path, path: &Path) -> bool {
    let rust = path.extension().is_some_and(|e| e == "rs") && path.starts_with(dir.join("src"));
    rust || path.file_name().is_some_and(|n| n == "Cargo.toml")
}

/// True for a folder whose changes the kernel does not report: Windows
/// drives seen from WSL (`/mnt/c/...`, a 9p or drvfs file system).
fn events_do_not_arrive(dir: &Path) -> bool {
    let wsl = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .is_ok_and(|r| r.to_ascii_lowercase().contains("microsoft"));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    wsl && dir.starts_with("/mnt")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sources_count() {
        let dir = Path::new("/course/lessons/lesson4");
        assert!(is_source(dir, &dir.join("src/heap.rs")));
        assert!(is_source(dir, &dir.join("Cargo.toml")));
        assert!(!is_source(dir, &dir.join("src/.heap.rs.swp")));
        assert!(!is_source(dir, &dir.join("target/debug/x.rs")));
    }
}
