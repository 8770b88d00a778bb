//! A process that outlives the test: a double fork and `setsid`, named so
//! the kit test can look for it after the grade, sleeping and then writing
//! to the terminal the grader ran in.

use crate::{name_self, tried};

pub fn before_main() {}

pub fn in_the_heap() {
    tried("leaving a process running after the test (double fork, setsid)");
    // SAFETY: the children only sleep, write and exit.
    unsafe {
        if libc::fork() == 0 {
            libc::setsid();
            if libc::fork() == 0 {
                name_self();
                libc::sleep(30);
                let line = "heaplab-attack: BREACH a process outlived its test\n";
                libc::write(2, line.as_ptr().cast(), line.len());
                libc::_exit(0);
            }
            libc::_exit(0);
        }
    }
}
