//! How the student's processes are started and stopped: each in the
//! test's confinement (`heaplab-sandbox`: as far as the machine allows, a
//! user of its own, namespaces, Landlock, seccomp, limits, a clean start),
//! in the scratch folder, in a process group of its own.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

pub use heaplab_sandbox::{reap_orphans, watchdog_fired};

use super::config::Config;

/// The command that starts the subject of `config`: as a server handed
/// `channel` (and the window's memory file), or, without one, to run one of
/// its programs.
pub fn command(config: &Config, channel: Option<OwnedFd>) -> Result<Command, String> {
    let mut command = Command::new(&config.subject);
    confine(&mut command, config, channel)?;
    Ok(command)
}

/// Makes `command` start in the test's confinement (any program the test
/// runs with the student's code: the subject, or a real program with the
/// student's library preloaded), in the scratch folder, with a clean
/// environment, in a process group of its own; for the subject server,
/// with `channel` and the window's memory file as descriptors 3 and 4.
pub fn confine(
    command: &mut Command,
    config: &Config,
    channel: Option<OwnedFd>,
) -> Result<(), String> {
    command
        .current_dir(&config.scratch)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", &config.scratch)
        .env("TMPDIR", &config.scratch)
        .env("LANG", "C.UTF-8")
        .process_group(0);
    let fds = channel
        .as_ref()
        .map(|c| (c.as_raw_fd(), config.window_file));
    let spec = config.spec();
    let prepared = heaplab_sandbox::prepare(&spec, heaplab_sandbox::allowed(&spec)?, fds)?;
    let pre_exec = move || -> std::io::Result<()> {
        // Runs in the forked child before exec: system calls only.
        let _keep = &channel;
        prepared
            .enter()
            .map_err(|failed| std::io::Error::new(failed.error.kind(), format!("{failed:?}")))
    };
    // SAFETY: the closure makes only system calls on what `prepare` made in
    // the parent, and allocates nothing unless a step fails (then the child
    // reports the error and ends).
    unsafe { command.pre_exec(pre_exec) };
    Ok(())
}

/// Gives `path` (a file or folder a test made in the scratch folder) to the
/// user the student's code runs as, when that is a user of its own.
pub fn hand_over(path: &std::path::Path, config: &Config) -> std::io::Result<()> {
    heaplab_sandbox::hand_over(path, &config.spec())
}

/// Stops the subject and everything it started, and reaps it.
pub fn stop(child: &mut Child) {
    let pid = child.id() as libc::pid_t;
    // The leader is not reaped yet (only observed, never waited for, until
    // here), so its id, which is the group's, cannot have been reused.
    // SAFETY: killpg sends a signal to the subject's own group
    // (process_group(0)); it touches no memory.
    unsafe { libc::killpg(pid, libc::SIGKILL) };
    let _ = child.wait();
}

/// True once the subject's first process has exited; does not reap it.
pub fn exited(child: &Child) -> bool {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid writes only into `info`, which lives for the call.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            child.id() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: waitid filled `info`; si_pid is 0 when no child changed state.
    rc == -1 || unsafe { info.si_pid() } != 0
}

/// Runs the subject's program `name` (`--as NAME ARGS…`) in `dir`, in its
/// sandbox, stopped after `timeout`.
pub fn run_program(
    config: &Config,
    name: &str,
    args: &[&str],
    dir: &std::path::Path,
    timeout: std::time::Duration,
) -> Result<std::process::Output, String> {
    let mut command = command(config, None)?;
    command.arg("--as").arg(name).args(args).current_dir(dir);
    assert_cmd::Command::from_std(command)
        .timeout(timeout)
        .output()
        .map_err(|e| format!("cannot run {name}: {e}"))
}
