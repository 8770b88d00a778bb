//! The lesson 4 crate every attack is built as (autograder/tests/attacks.rs
//! makes each submission: this file as src/lib.rs, one attack as
//! src/attack.rs). The heap implements nothing: whatever score the
//! submission gets, its attack got. What the attack does comes out on
//! stderr, which the report keeps: `heaplab-attack: tried …` for each
//! attempt, `heaplab-attack: BREACH …` for one that worked.
#![allow(dead_code)]

mod attack;

use std::io::Write;
use std::ptr::NonNull;

use heaplab_kit::{Block, Heap, PageSource, Stats};

/// Runs the attack before `main`, as a constructor (`.init_array`).
#[used]
#[link_section = ".init_array"]
static BEFORE_MAIN: extern "C" fn() = before_main;

extern "C" fn before_main() {
    attack::before_main();
}

pub struct FreeListHeap<S> {
    pages: S,
}

impl<S: PageSource> FreeListHeap<S> {
    pub fn new(pages: S) -> Self {
        attack::in_the_heap();
        FreeListHeap { pages }
    }
}

impl<S: PageSource> Heap for FreeListHeap<S> {
    fn malloc(&mut self, _size: usize) -> Option<NonNull<u8>> {
        todo!()
    }
    unsafe fn free(&mut self, _ptr: NonNull<u8>) {
        todo!()
    }
    unsafe fn usable_size(&self, _ptr: NonNull<u8>) -> Option<usize> {
        todo!()
    }
    fn stats(&self) -> Stats {
        todo!()
    }
    fn free_blocks(&self) -> Vec<Block> {
        todo!()
    }
}

/// Says an attempt was made.
pub fn tried(what: &str) {
    say(&format!("heaplab-attack: tried {what}"));
}

/// Says an attempt worked: the defence that should have stopped it did not.
pub fn breach(what: &str) {
    say(&format!("heaplab-attack: BREACH {what}"));
}

fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The parent of process `pid`, from `/proc/<pid>/stat`.
pub fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// The checker (the first ancestor that is not this program: a test's
/// process may be a child of the student's first process) and the grader
/// (its parent).
pub fn checker_and_grader() -> (i32, Option<i32>) {
    let own = std::fs::read_link("/proc/self/exe").ok();
    // SAFETY: getppid only reads this process's parent id.
    let mut pid = unsafe { libc::getppid() };
    while let Some(parent) = parent_of(pid) {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        if exe.is_none() || exe != own {
            break;
        }
        pid = parent;
    }
    (pid, parent_of(pid))
}

/// Names this process (`/proc/<pid>/comm`), so a kit test can find it.
pub fn name_self() {
    // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, c"heaplab-attack".as_ptr()) };
}
