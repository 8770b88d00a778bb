//! The two kernel filters a student's process runs under, built by the
//! parent (they allocate) and applied by the child ([`super::enter`]):
//!
//! - Landlock: writes only under the scratch folder (and to `/dev/null`),
//!   no TCP at all, no signals to processes outside the sandbox, no
//!   abstract UNIX sockets outside it;
//! - seccomp: no internet or raw sockets (`socket(AF_INET…)` fails with
//!   EACCES), so UDP is closed too, which Landlock does not cover.

use std::collections::BTreeMap;
use std::path::Path;

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, Scope, ABI,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// The Landlock ABI the rules are written for (Linux 6.12: scopes).
const ABI_USED: ABI = ABI::V6;

/// The kernel's Landlock ABI version, or `None` without Landlock.
pub fn landlock_abi() -> Option<i32> {
    const CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: landlock_create_ruleset with this flag only returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    (v > 0).then_some(v as i32)
}

/// The ruleset for a process whose scratch folder is `scratch`.
pub fn landlock(scratch: &Path) -> Result<RulesetCreated, String> {
    let made = Ruleset::default()
        .handle_access(AccessFs::from_write(ABI_USED))
        .and_then(|r| r.handle_access(AccessNet::from_all(ABI_USED)))
        .and_then(|r| r.scope(Scope::from_all(ABI_USED)))
        .and_then(|r| r.create())
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                [scratch],
                AccessFs::from_write(ABI_USED),
            ))
        })
        .and_then(|r| {
            r.add_rules(path_beneath_rules(
                ["/dev/null"],
                AccessFs::from_write(ABI_USED),
            ))
        });
    made.map_err(|e| format!("cannot make the Landlock rules: {e}"))
}

/// The seccomp program: `socket` for an internet or raw-packet family fails.
pub fn seccomp() -> Result<BpfProgram, String> {
    let family = |f: libc::c_int| {
        SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, f as u64)
            .and_then(|c| SeccompRule::new(vec![c]))
    };
    let rules = [libc::AF_INET, libc::AF_INET6, libc::AF_PACKET]
        .into_iter()
        .map(family)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("seccomp rule: {e}"))?;
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e| format!("seccomp on {}: {e:?}", std::env::consts::ARCH))?;
    let filter = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_socket, rules)]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EACCES as u32),
        arch,
    )
    .map_err(|e| format!("seccomp filter: {e}"))?;
    filter
        .try_into()
        .map_err(|e| format!("seccomp program: {e:?}"))
}
