//! The steps a student's process takes into its confinement, in the forked
//! child before `exec`: everything they need was prepared by the parent
//! ([`Prepared`]), so each step is one or a few system calls that allocate
//! nothing (the parent may have other threads, whose locks a fork copies).
//!
//! The order matters: the user changes before the namespaces (an
//! unprivileged user makes them), the namespaces before the limits that
//! count their processes, Landlock and seccomp last but one (each may forbid
//! what the earlier steps do), the parent-death signal last (a change of
//! credentials clears it).

use std::ffi::CString;
use std::io;
use std::sync::Mutex;

use landlock::RulesetCreated;
use seccompiler::BpfProgram;

use crate::fds;

/// A step that failed: which one, and the error.
#[derive(Debug)]
pub struct StepFailed {
    pub step: Step,
    pub error: io::Error,
}

/// The steps, in order; a failed one is reported by number from a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Step {
    Descriptors = 1,
    Limits,
    User,
    Namespaces,
    Processes,
    NoNewPrivs,
    Landlock,
    Seccomp,
    ParentDeath,
}

/// The unprivileged user a root grader runs the student's code as.
#[derive(Clone, Copy, Debug)]
pub struct User {
    pub uid: libc::uid_t,
    pub gid: libc::gid_t,
}

/// The namespaces' set-up: maps and mount paths, as C strings.
#[derive(Debug)]
pub struct Namespaces {
    /// `ID ID 1`: the student's user (or group) as itself inside.
    pub uid_map: CString,
    pub gid_map: CString,
    /// The scratch folder, the one place left writable.
    pub scratch: CString,
}

/// Everything the child needs, made by the parent.
pub struct Prepared {
    /// The channel and the window's memory file, to become fds 3 and 4.
    pub fds: Option<(i32, i32)>,
    pub memory_bytes: u64,
    pub file_bytes: u64,
    pub user: Option<User>,
    pub namespaces: Option<Namespaces>,
    /// A cap on the processes (and threads) of the student's user.
    pub processes: Option<u64>,
    pub landlock: Mutex<Option<RulesetCreated>>,
    pub seccomp: Option<BpfProgram>,
}

impl Prepared {
    /// Takes every step, in order; stops at the first that fails.
    pub fn enter(&self) -> Result<(), StepFailed> {
        let at = |step: Step| move |error: io::Error| StepFailed { step, error };
        if let Some((channel, window)) = self.fds {
            fds::give(channel, window).map_err(at(Step::Descriptors))?;
        }
        fds::close_on_exec_above(fds::LAST_GIVEN).map_err(at(Step::Descriptors))?;
        no_randomization();
        self.limits().map_err(at(Step::Limits))?;
        if let Some(user) = self.user {
            become_user(user).map_err(at(Step::User))?;
        }
        if let Some(ns) = &self.namespaces {
            enter_namespaces(ns).map_err(at(Step::Namespaces))?;
        }
        if let Some(n) = self.processes {
            limit(libc::RLIMIT_NPROC, n).map_err(at(Step::Processes))?;
        }
        no_new_privs().map_err(at(Step::NoNewPrivs))?;
        self.restrict_landlock().map_err(at(Step::Landlock))?;
        if let Some(program) = &self.seccomp {
            seccompiler::apply_filter(program)
                .map_err(|e| io::Error::other(e.to_string()))
                .map_err(at(Step::Seccomp))?;
        }
        // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag of this process.
        check(unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) })
            .map_err(at(Step::ParentDeath))
    }

    fn limits(&self) -> io::Result<()> {
        limit(libc::RLIMIT_AS, self.memory_bytes)?;
        limit(libc::RLIMIT_CORE, 0)?;
        limit(libc::RLIMIT_FSIZE, self.file_bytes)?;
        limit(libc::RLIMIT_NOFILE, 256)
    }

    fn restrict_landlock(&self) -> io::Result<()> {
        let ruleset = match self.landlock.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        match ruleset {
            Some(ruleset) => ruleset
                .restrict_self()
                .map(drop)
                .map_err(|_| io::Error::from_raw_os_error(libc::EPERM)),
            None => Ok(()),
        }
    }
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn limit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: value as libc::rlim_t,
        rlim_max: value as libc::rlim_t,
    };
    // SAFETY: setrlimit reads the struct it is given; it changes only this
    // (child) process's limits.
    check(unsafe { libc::setrlimit(resource, &limit) })
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

/// Drops every group and becomes `user` for good (real, effective, saved).
fn become_user(user: User) -> io::Result<()> {
    // SAFETY: setgroups with an empty list reads no memory.
    check(unsafe { libc::setgroups(0, std::ptr::null()) })?;
    // SAFETY: these change only this process's credentials.
    check(unsafe { libc::setresgid(user.gid, user.gid, user.gid) })?;
    // SAFETY: as above.
    check(unsafe { libc::setresuid(user.uid, user.uid, user.uid) })
}

fn no_new_privs() -> io::Result<()> {
    // SAFETY: sets a flag of this process.
    check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) })
}

/// New user, mount, network, IPC and host-name namespaces; the user maps
/// to itself inside; every mount read-only but the scratch folder.
fn enter_namespaces(ns: &Namespaces) -> io::Result<()> {
    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS;
    // The grader and the checker make themselves undumpable, and a change
    // of user does too, which gives a process's /proc files to root: this
    // child could not write its own uid_map. It is dumpable again until
    // `exec` decides anew.
    // SAFETY: sets a flag of this process.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) })?;
    // SAFETY: unshare changes only which namespaces this process is in.
    check(unsafe { libc::unshare(flags) })?;
    write_file(c"/proc/self/setgroups", b"deny")?;
    write_file(c"/proc/self/uid_map", ns.uid_map.as_bytes())?;
    write_file(c"/proc/self/gid_map", ns.gid_map.as_bytes())?;
    // The working folder was entered before the mounts changed: enter it
    // again by name, or it stays on the read-only mount under the scratch
    // folder's writable one.
    let mut cwd = [0u8; 4096];
    // SAFETY: getcwd writes at most cwd.len() bytes, NUL-terminated.
    if unsafe { libc::getcwd(cwd.as_mut_ptr().cast(), cwd.len()) }.is_null() {
        return Err(io::Error::last_os_error());
    }
    crate::mounts::read_only_but(&ns.scratch)?;
    // SAFETY: `cwd` holds the NUL-terminated path getcwd wrote.
    check(unsafe { libc::chdir(cwd.as_ptr().cast()) })
}

/// Writes `bytes` to the file `path` with one write(2).
fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: a NUL-terminated path; open makes a new descriptor.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: writes from a live slice; closes our own descriptor.
    let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    let error = io::Error::last_os_error();
    // SAFETY: our own descriptor.
    unsafe { libc::close(fd) };
    if written != bytes.len() as isize {
        return Err(error);
    }
    Ok(())
}
