//! Running things as a grading server would, and moving files around.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Whether this machine lets a process cut its own network (`unshare -n`).
fn can_cut_network() -> bool {
    static CUT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CUT.get_or_init(|| {
        Command::new("unshare")
            .args(["-n", "true"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs `cmd` as a grading server would: no network (a fresh network
/// namespace when this machine allows one, and cargo told to stay offline),
/// none of this build's cargo settings.
pub fn offline(cmd: &mut Command) -> Output {
    let mut outer = if can_cut_network() {
        let mut c = Command::new("unshare");
        c.arg("-n").arg(cmd.get_program()).args(cmd.get_args());
        copy_settings(cmd, &mut c);
        c
    } else {
        std::mem::replace(cmd, Command::new("true"))
    };
    for var in [
        "CARGO_TARGET_DIR",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET_DIR",
        "HEAPLAB_MANIFEST",
        "CARGO_MANIFEST_DIR",
    ] {
        if cmd.get_envs().all(|(k, _)| k != var) {
            outer.env_remove(var);
        }
    }
    outer.env("CARGO_NET_OFFLINE", "true").env("NO_COLOR", "1");
    outer.output().unwrap()
}

/// The folder and the environment of `from`, given to `to`.
fn copy_settings(from: &Command, to: &mut Command) {
    if let Some(dir) = from.get_current_dir() {
        to.current_dir(dir);
    }
    for (k, v) in from.get_envs() {
        match v {
            Some(v) => to.env(k, v),
            None => to.env_remove(k),
        };
    }
}

/// Everything a run said, for a failed assertion.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Copies every file under `from` to `to` (skipping build output).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "target" {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

pub fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Runs a command that must succeed.
pub fn ok(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", text(&out));
}

pub fn unpack(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    ok(Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into));
}

pub fn unzip(archive: &Path, into: &Path) {
    fs::create_dir_all(into).unwrap();
    ok(Command::new("unzip")
        .arg("-q")
        .arg(archive)
        .arg("-d")
        .arg(into));
}

/// A fresh, empty folder at `path`.
pub fn fresh(path: &Path) {
    let _ = fs::remove_dir_all(path);
    fs::create_dir_all(path).unwrap();
}

/// Bytes used under `dir`, as `du` counts them.
pub fn disk_usage(dir: &Path) -> u64 {
    let out = Command::new("du").arg("-sb").arg(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
