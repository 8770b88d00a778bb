//! A fork bomb, started before `main` so that every test's process starts
//! one: children that fork forever.

use crate::{name_self, tried};

pub fn before_main() {
    tried("a fork bomb");
    // SAFETY: the child forks until it cannot; the parent goes on.
    unsafe {
        if libc::fork() == 0 {
            name_self();
            loop {
                libc::fork();
            }
        }
    }
}

pub fn in_the_heap() {}
