//! Headless Chromium for the kit's tests: a page's DOM after its scripts
//! ran (`--dump-dom`), with a script put first that records every script
//! error and every load the page's policy refused.

#![allow(dead_code)] // each test file uses its part

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Put first in `<head>`: records every script error and every load the
/// page's policy refused.
pub const CATCH_ERRORS: &str = "<script>window.__errors = [];\
addEventListener('error', function (e) { __errors.push(String(e.message)); });\
document.addEventListener('securitypolicyviolation', function (e) {\
__errors.push('refused by the policy: ' + e.violatedDirective + ' ' + e.blockedURI); });</script>";

/// The Chromium to run: `HEAPLAB_CHROMIUM`, or the first of the usual
/// names on the PATH.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("HEAPLAB_CHROMIUM") {
        return path.into();
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(name))
            .find(|p| p.is_file());
        if let Some(path) = found {
            return path;
        }
    }
    panic!(
        "this test needs a headless Chromium: `apt-get install chromium` (.ci/run installs it), \
         or set HEAPLAB_CHROMIUM to its path"
    );
}

/// The page at `html` after its scripts ran, as Chromium serializes it.
/// Chromium runs without a network (a new network namespace: only its own
/// loopback), so it could reach nothing even if the page asked.
pub fn dump_dom(html: &Path, profile: &Path) -> String {
    // To a file: a page is more than a pipe holds while nobody reads it.
    let dumped = html.with_extension("dom");
    let mut child = Command::new("unshare")
        .args(["--map-root-user", "--net"])
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--window-size=1000,800",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", html.display()))
        .stdout(std::fs::File::create(&dumped).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare runs (util-linux)");
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("Chromium ran past 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "Chromium failed: {status:?}");
    std::fs::read_to_string(&dumped).unwrap()
}

/// `html` with [`CATCH_ERRORS`] first in its head and `drive` last in its
/// body.
pub fn instrumented(html: &str, drive: &str) -> String {
    html.replacen("<head>", &format!("<head>{CATCH_ERRORS}"), 1)
        .replacen("</body>", &format!("{drive}</body>"), 1)
}
