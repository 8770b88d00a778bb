//! Which layers of confinement this machine allows, found out once per
//! checker by trying them: a forked probe takes every step a student's
//! process will take ([`Prepared::enter`]) and then checks it can still run
//! the subject and write its scratch folder. A layer whose step fails is
//! dropped, with the reason, and the probe tries again without it.

use std::ffi::CString;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use heaplab_protocol::confinement::Confinement;

use crate::enter::{Namespaces, Prepared, Step, User};
use crate::filters;
use crate::Spec as Config;

/// The first user id a root grader runs students' code as: one id per
/// worker slot (`--slot`), none of them a real account.
pub const UID_BASE: libc::uid_t = 0x7e48_0000;

/// Processes and threads the student's code may have at once.
pub const PROCESSES: u64 = 128;

/// The largest file a student's process may write.
pub const FILE_BYTES: u64 = 64 << 20;

/// The layers this machine allows, with the reasons for those it does not.
#[derive(Clone, Debug)]
pub struct Allowed {
    pub user: Option<User>,
    pub namespaces: bool,
    pub landlock: Option<i32>,
    pub seccomp: bool,
    pub off: Vec<(&'static str, String)>,
}

static ALLOWED: OnceLock<Result<Allowed, String>> = OnceLock::new();

/// The layers allowed here (probed on first use).
pub fn allowed(config: &Config) -> Result<&'static Allowed, String> {
    ALLOWED
        .get_or_init(|| probe(config))
        .as_ref()
        .map_err(Clone::clone)
}

/// The unprivileged user of `slot`, when this process is root.
pub fn user_for(slot: u32) -> Option<User> {
    // SAFETY: geteuid only reads this process's credentials.
    (unsafe { libc::geteuid() } == 0).then(|| User {
        uid: UID_BASE + slot,
        gid: UID_BASE + slot,
    })
}

fn probe(config: &Config) -> Result<Allowed, String> {
    let mut allowed = Allowed {
        user: user_for(config.slot),
        namespaces: true,
        landlock: filters::landlock_abi(),
        seccomp: true,
        off: Vec::new(),
    };
    if allowed.user.is_none() {
        allowed
            .off
            .push(("own user", "the grader is not root".into()));
    }
    turn_off(&mut allowed);
    if allowed.landlock.is_none() {
        allowed
            .off
            .push(("landlock", "this kernel has no Landlock".into()));
    }
    for _ in 0..5 {
        let prepared = prepare(config, &allowed, None)?;
        match try_in_child(&prepared, config)? {
            None => return Ok(allowed),
            Some((step, why)) => drop_layer(&mut allowed, step, why)?,
        }
    }
    Err("the confinement probe did not settle".into())
}

/// The kit's own tests turn layers off (`HEAPLAB_SANDBOX_OFF=all`, or a
/// list of layer names) to show that the attacks they stop are real. The
/// grader's environment is the instructor's, never a submission's.
pub const OFF_ENV: &str = "HEAPLAB_SANDBOX_OFF";

fn turn_off(allowed: &mut Allowed) {
    let Ok(list) = std::env::var(OFF_ENV) else {
        return;
    };
    let off = |name: &str| {
        list.split(',')
            .any(|n| n.trim() == name || n.trim() == "all")
    };
    let why = || format!("turned off ({OFF_ENV})");
    if off("own user") && allowed.user.take().is_some() {
        allowed.off.push(("own user", why()));
    }
    if off("namespaces") && std::mem::take(&mut allowed.namespaces) {
        allowed.off.push(("namespaces", why()));
    }
    if off("landlock") && allowed.landlock.take().is_some() {
        allowed.off.push(("landlock", why()));
    }
    if off("seccomp") && std::mem::take(&mut allowed.seccomp) {
        allowed.off.push(("seccomp", why()));
    }
}

/// Takes the layer that `step` belongs to off, or fails when the step is
/// one every machine must allow.
fn drop_layer(allowed: &mut Allowed, step: Option<Step>, why: String) -> Result<(), String> {
    let name = match step {
        Some(Step::User) | None if allowed.user.is_some() => {
            allowed.user = None;
            "own user"
        }
        Some(Step::Namespaces) | None if allowed.namespaces => {
            allowed.namespaces = false;
            "namespaces"
        }
        Some(Step::Landlock) => {
            allowed.landlock = None;
            "landlock"
        }
        Some(Step::Seccomp) => {
            allowed.seccomp = false;
            "seccomp"
        }
        _ => return Err(format!("cannot confine the student's processes: {why}")),
    };
    allowed.off.push((name, why));
    Ok(())
}

/// What the child needs, for the layers in `allowed`.
pub fn prepare(
    config: &Config,
    allowed: &Allowed,
    fds: Option<(i32, i32)>,
) -> Result<Prepared, String> {
    // SAFETY: geteuid/getegid only read this process's credentials.
    let (uid, gid) = match allowed.user {
        Some(u) => (u.uid, u.gid),
        None => unsafe { (libc::geteuid(), libc::getegid()) },
    };
    let c = |s: String| CString::new(s).map_err(|_| "a path with a NUL byte".to_string());
    let namespaces = if allowed.namespaces {
        Some(Namespaces {
            uid_map: c(format!("{uid} {uid} 1"))?,
            gid_map: c(format!("{gid} {gid} 1"))?,
            scratch: c(config.scratch.to_string_lossy().into_owned())?,
        })
    } else {
        None
    };
    let landlock = match allowed.landlock {
        Some(_) => Some(filters::landlock(&config.scratch)?),
        None => None,
    };
    Ok(Prepared {
        fds,
        memory_bytes: config.memory_bytes,
        file_bytes: FILE_BYTES,
        user: allowed.user,
        processes: (allowed.user.is_some() || allowed.namespaces).then_some(PROCESSES),
        namespaces,
        landlock: Mutex::new(landlock),
        seccomp: if allowed.seccomp {
            Some(filters::seccomp()?)
        } else {
            None
        },
    })
}

/// Forks a child that takes every step and checks it can still run the
/// subject and write the scratch folder: `None` when all went well, else
/// the failed step (`None` for the final check) and why.
fn try_in_child(
    prepared: &Prepared,
    config: &Config,
) -> Result<Option<(Option<Step>, String)>, String> {
    let subject = CString::new(config.subject.as_os_str().as_encoded_bytes())
        .map_err(|_| "a path with a NUL byte")?;
    let scratch = CString::new(config.scratch.as_os_str().as_encoded_bytes())
        .map_err(|_| "a path with a NUL byte")?;
    let mut pipe = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the child makes only system calls and leaves with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: the child's own descriptors and exit.
        unsafe {
            libc::close(pipe[0]);
            let (code, errno) = probe_child(prepared, &subject, &scratch);
            libc::write(pipe[1], (&errno as *const i32).cast(), 4);
            libc::_exit(code)
        }
    }
    // SAFETY: closing our copy of the write end.
    unsafe { libc::close(pipe[1]) };
    let (code, errno) = wait_probe(pid, pipe[0])?;
    Ok(describe(code, errno, &config.subject))
}

/// The probe's body: exit code 0, a step's number, or 100 when the final
/// access check failed; and the errno.
fn probe_child(prepared: &Prepared, subject: &CString, scratch: &CString) -> (i32, i32) {
    if let Err(failed) = prepared.enter() {
        return (failed.step as i32, failed.error.raw_os_error().unwrap_or(0));
    }
    // SAFETY: access only reads the NUL-terminated paths.
    let reach = unsafe {
        libc::access(subject.as_ptr(), libc::X_OK) == 0
            && libc::access(scratch.as_ptr(), libc::W_OK | libc::X_OK) == 0
    };
    if reach {
        (0, 0)
    } else {
        (
            100,
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        )
    }
}

fn wait_probe(pid: libc::pid_t, read_end: i32) -> Result<(i32, i32), String> {
    if pid == -1 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    let mut errno = 0i32;
    let mut status = 0;
    // SAFETY: reads 4 bytes into `errno`; waits for our own child; closes
    // our own descriptor.
    unsafe {
        libc::read(read_end, (&mut errno as *mut i32).cast(), 4);
        libc::close(read_end);
        libc::waitpid(pid, &mut status, 0);
    }
    if !libc::WIFEXITED(status) {
        return Err(format!("the confinement probe died (status {status})"));
    }
    Ok((libc::WEXITSTATUS(status), errno))
}

fn describe(code: i32, errno: i32, subject: &Path) -> Option<(Option<Step>, String)> {
    let error = std::io::Error::from_raw_os_error(errno);
    let step = [
        Step::Descriptors,
        Step::Limits,
        Step::User,
        Step::Namespaces,
        Step::Processes,
        Step::NoNewPrivs,
        Step::Landlock,
        Step::Seccomp,
        Step::ParentDeath,
    ]
    .into_iter()
    .find(|s| *s as i32 == code);
    match (code, step) {
        (0, _) => None,
        (100, _) => Some((
            None,
            format!(
                "confined, the student's code could not run {} or write its scratch folder ({error}): \
                 a folder on the way is not open to other users",
                subject.display()
            ),
        )),
        (_, Some(step)) => Some((Some(step), format!("not allowed here ({error})"))),
        (_, None) => Some((None, format!("the probe failed (exit {code})"))),
    }
}

/// The layers in words, for the grader.
pub fn confinement(allowed: &Allowed, memory_bytes: u64) -> Confinement {
    let mut c = Confinement::default();
    let off = |name: &str| {
        allowed
            .off
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map_or(String::new(), |(_, why)| why.clone())
    };
    match allowed.user {
        // The uid itself is left out: each test leases a slot of its own,
        // and the same submission must get the same report.
        Some(_) => c.push(
            "own user",
            true,
            format!(
                "a user of its own for each test, uid {UID_BASE:#x} + its slot (the grader runs \
                 as root)"
            ),
        ),
        None => c.push("own user", false, off("own user")),
    }
    if allowed.namespaces {
        c.push(
            "namespaces",
            true,
            "user, mount (every file read-only but the scratch folder), network (none), IPC, host name",
        );
    } else {
        c.push("namespaces", false, off("namespaces"));
    }
    match allowed.landlock {
        Some(abi) => c.push(
            "landlock",
            true,
            format!("writes only to the scratch folder, no TCP, no signals out (kernel ABI {abi})"),
        ),
        None => c.push("landlock", false, off("landlock")),
    }
    if allowed.seccomp {
        c.push("seccomp", true, "no internet or raw sockets");
    } else {
        c.push("seccomp", false, off("seccomp"));
    }
    c.push("no_new_privs", true, "no set-user-ID or file capabilities");
    c.push("limits", true, limits_detail(allowed, memory_bytes));
    c.push(
        "cleanup",
        true,
        "every process it starts is killed when the test ends (the checker is a child subreaper)",
    );
    c.push(
        "clean start",
        true,
        "a clean environment; descriptors 0 to 4 only",
    );
    c
}

fn limits_detail(allowed: &Allowed, memory_bytes: u64) -> String {
    let processes = if allowed.user.is_some() || allowed.namespaces {
        format!("{PROCESSES} processes and threads, ")
    } else {
        String::new()
    };
    format!(
        "{processes}{} MiB of memory across its processes, files up to {} MiB, no core dumps",
        memory_bytes >> 20,
        FILE_BYTES >> 20
    )
}
