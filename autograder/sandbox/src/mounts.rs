//! The student's view of the files, in its own mount namespace: every mount
//! read-only (recursively, in one `mount_setattr`), and the scratch folder
//! mounted over itself writable. Called in the forked child with the
//! namespace's privileges, before `exec` drops them.

use std::ffi::CStr;
use std::io;

/// `struct mount_attr` of `<linux/mount.h>`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;

fn check(rc: libc::c_long) -> io::Result<()> {
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets (`set`) and clears (`clear`) mount flags on the mount at `path`,
/// and on every mount under it when `recursive`.
fn set_attributes(path: &CStr, set: u64, clear: u64, recursive: bool) -> io::Result<()> {
    let attr = MountAttr {
        attr_set: set,
        attr_clr: clear,
        propagation: 0,
        userns_fd: 0,
    };
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: mount_setattr reads `attr` (its size is passed) and the
    // NUL-terminated path; it changes only this namespace's mounts.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
}

/// Every mount read-only and without set-user-ID, except `scratch`.
pub fn read_only_but(scratch: &CStr) -> io::Result<()> {
    let none = std::ptr::null::<libc::c_char>();
    // SAFETY: mount with MS_REC | MS_PRIVATE changes propagation only, in
    // this process's own mount namespace.
    check(unsafe {
        libc::mount(
            none,
            c"/".as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    } as libc::c_long)?;
    // SAFETY: a bind mount of the scratch folder over itself, in this
    // namespace: a mount of its own, whose flags this namespace may change.
    check(unsafe {
        libc::mount(
            scratch.as_ptr(),
            scratch.as_ptr(),
            none,
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    } as libc::c_long)?;
    set_attributes(c"/", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, true)?;
    set_attributes(scratch, 0, MOUNT_ATTR_RDONLY, false)
}
