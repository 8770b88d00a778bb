//! The crates a grader tree builds with, vendored into `vendor/` so a grading
//! server builds offline with nothing but a Rust toolchain.
//!
//! `cargo vendor` copies every package of the lock file, for every platform.
//! Grading servers run Linux, so crates no Linux build uses (Windows and UEFI
//! bindings: about 20 MB of `windows-sys`) are replaced by empty stand-ins
//! that keep their manifest and checksum, as cargo needs to resolve the lock.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

use super::io;
use crate::build::cargo;
use crate::Fatal;

/// The targets a grading server may run on.
const SERVER_TARGETS: &[&str] = &["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

const CONFIG: &str = "\n\
# Added by `grade package`: every crate comes from vendor/, never the network.\n\
[source.crates-io]\n\
replace-with = \"vendored-sources\"\n\
\n\
[source.vendored-sources]\n\
directory = \"vendor\"\n\
\n\
[net]\n\
offline = true\n";

/// Drops the lock's packages the tree no longer uses (the instructor's
/// crates), keeping every other version as it was.
pub fn prune_lock(root: &Path) -> Result<(), Fatal> {
    run_cargo(
        root,
        &["metadata", "--format-version", "1"],
        "prune Cargo.lock",
    )?;
    Ok(())
}

/// Vendors the crates of the workspace at `root`, points cargo at them, and
/// checks that the tree resolves offline.
pub fn vendor(root: &Path) -> Result<(), Fatal> {
    run_cargo(
        root,
        &["vendor", "--quiet", "vendor"],
        "vendor the grader's crates",
    )?;
    let config = root.join(".cargo/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap_or_default();
    text.push_str(CONFIG);
    std::fs::create_dir_all(root.join(".cargo")).map_err(|e| io(root, e))?;
    std::fs::write(&config, text).map_err(|e| io(&config, e))?;

    let mut args = vec!["tree", "--offline", "--workspace", "-e", "normal,build,dev"];
    for t in SERVER_TARGETS {
        args.extend(["--target", t]);
    }
    args.extend(["--prefix", "none", "--format", "{p}"]);
    let tree = run_cargo(root, &args, "list the crates a Linux build uses")?;
    let used: HashSet<(String, String)> = tree
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some((name.to_string(), version.to_string()))
        })
        .collect();

    let vendor = root.join("vendor");
    for entry in std::fs::read_dir(&vendor).map_err(|e| io(&vendor, e))? {
        let dir = entry.map_err(|e| io(&vendor, e))?.path();
        let Some(id) = package_id(&dir) else { continue };
        if !used.contains(&id) {
            empty_stand_in(&dir)?;
        }
    }
    // The lock, the manifests and the vendored sources agree, offline.
    run_cargo(
        root,
        &["metadata", "--offline", "--locked", "--format-version", "1"],
        "check the vendored grader tree",
    )?;
    Ok(())
}

/// (name, version) of the vendored package in `dir`.
fn package_id(dir: &Path) -> Option<(String, String)> {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    let package = table.get("package")?;
    Some((
        package.get("name")?.as_str()?.to_string(),
        package.get("version")?.as_str()?.to_string(),
    ))
}

/// Replaces a vendored crate no Linux build compiles by its manifest and an
/// empty library; its checksum file lists no files, so cargo checks none.
fn empty_stand_in(dir: &Path) -> Result<(), Fatal> {
    let manifest = std::fs::read(dir.join("Cargo.toml")).map_err(|e| io(dir, e))?;
    let checksum_path = dir.join(".cargo-checksum.json");
    let checksum: serde_json::Value = std::fs::read(&checksum_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let package = checksum
        .get("package")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    std::fs::remove_dir_all(dir).map_err(|e| io(dir, e))?;
    std::fs::create_dir_all(dir.join("src")).map_err(|e| io(dir, e))?;
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| io(dir, e))?;
    std::fs::write(dir.join("src/lib.rs"), "").map_err(|e| io(dir, e))?;
    let stand_in = serde_json::json!({ "files": {}, "package": package });
    std::fs::write(&checksum_path, stand_in.to_string()).map_err(|e| io(&checksum_path, e))?;
    Ok(())
}

/// Runs cargo in `root` (outside any other workspace's settings) and returns
/// its stdout, or says what failed.
fn run_cargo(root: &Path, args: &[&str], what: &str) -> Result<String, Fatal> {
    let out = Command::new(cargo())
        .args(args)
        .current_dir(root)
        .env_remove("CARGO_TARGET_DIR")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Fatal::new(format!("cannot run cargo to {what}: {e}")))?;
    if !out.status.success() {
        return Err(Fatal::new(format!(
            "cargo could not {what} in {}:\n{}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
