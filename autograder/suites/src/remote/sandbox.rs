//! How the student's process is started and stopped: its own process group,
//! the channel and the window's memory file as descriptors 3 and 4, limits,
//! and nothing left running when it is stopped.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

use heaplab_protocol::fds;

use super::config::Config;

/// The command that starts the subject of `config`: as a server handed
/// `channel` (and the window's memory file), or, without one, to run one of
/// its programs.
pub fn command(config: &Config, channel: Option<OwnedFd>) -> Result<Command, String> {
    let mut command = Command::new(&config.subject);
    confine(&mut command, config, channel);
    Ok(command)
}

/// Makes `command` start in the test's confinement (any program the test
/// runs with the student's code: the subject, or a real program with the
/// student's library preloaded): the scratch folder, a clean environment,
/// a process group, limits; and, for the subject server, `channel` and the
/// window's memory file as descriptors 3 and 4.
pub fn confine(command: &mut Command, config: &Config, channel: Option<OwnedFd>) {
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
    let memory = config.memory_bytes;
    let pre_exec = move || -> std::io::Result<()> {
        // Runs in the forked child before exec: only async-signal-safe calls.
        let _keep = &channel;
        if let Some((channel_fd, window_fd)) = fds {
            // Out of the way first: either may sit where the other goes.
            let channel_high = above_targets(channel_fd)?;
            let window_high = above_targets(window_fd)?;
            move_fd(channel_high, fds::CHANNEL)?;
            move_fd(window_high, fds::WINDOW)?;
        }
        no_randomization();
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
        limit(libc::RLIMIT_AS, memory)?;
        limit(libc::RLIMIT_CORE, 0)?;
        Ok(())
    };
    // SAFETY: the closure makes only system calls (dup2, fcntl, personality,
    // prctl, setrlimit) and allocates nothing.
    unsafe { command.pre_exec(pre_exec) };
}

/// A copy of `fd` numbered above the descriptors the subject is given.
fn above_targets(fd: i32) -> std::io::Result<i32> {
    // SAFETY: F_DUPFD makes a new descriptor of this (child) process.
    let high = unsafe { libc::fcntl(fd, libc::F_DUPFD, 10) };
    if high == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(high)
}

/// Puts `from` at descriptor `to`, inherited across exec.
fn move_fd(from: i32, to: i32) -> std::io::Result<()> {
    if from == to {
        // SAFETY: clears close-on-exec on a descriptor this process owns.
        if unsafe { libc::fcntl(to, libc::F_SETFD, 0) } == -1 {
            return Err(std::io::Error::last_os_error());
        }
        return Ok(());
    }
    // SAFETY: dup2 onto a number the child owns; the copy is not close-on-exec.
    if unsafe { libc::dup2(from, to) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Without address-space randomization the student's process lays out its
/// memory the same way on every run, so a replay shows what the report showed.
fn no_randomization() {
    // SAFETY: personality(0xffffffff) only queries the persona.
    let persona = unsafe { libc::personality(0xffff_ffff) };
    if persona != -1 {
        let persona = persona as libc::c_ulong | libc::ADDR_NO_RANDOMIZE as libc::c_ulong;
        // SAFETY: changes how the next exec lays out memory, nothing else.
        unsafe { libc::personality(persona) };
    }
}

fn limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct it is given; it changes only this
    // (child) process's limits.
    if unsafe { libc::setrlimit(resource, &limit) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
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

/// Stops every process this one adopted: programs the student's processes
/// left running after their parents ended (a double fork, `setsid`) come
/// back to the checker, a child subreaper, and are killed here until none
/// is left.
pub fn reap_orphans() {
    for _ in 0..1000 {
        let children = children_of_self();
        if children.is_empty() {
            return;
        }
        for pid in children {
            // SAFETY: kill sends a signal to a child of this process, which
            // is not reaped yet, so its id is still its own.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // Reap whatever has ended.
        // SAFETY: waitpid with WNOHANG only collects exited children.
        while unsafe { libc::waitpid(-1, std::ptr::null_mut(), libc::WNOHANG) } > 0 {}
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// This process's children, from `/proc/self/task/*/children`.
fn children_of_self() -> Vec<libc::pid_t> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            pids.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<libc::pid_t>().ok()),
            );
        }
    }
    pids
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
