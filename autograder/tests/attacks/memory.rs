//! More memory than the test may have, in three processes of 450 MiB each:
//! each alone is well under the per-process limit (1 GiB of address space),
//! together they are over the test's 1 GiB.

use crate::{name_self, tried};

const EACH: usize = 450 << 20;

/// Before `main`: the student's first process has ten seconds to start,
/// where an operation has one.
pub fn before_main() {
    tried("three processes of 450 MiB");
    let mut ready = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array.
    unsafe { libc::pipe(ready.as_mut_ptr()) };
    for _ in 0..3 {
        // SAFETY: the child touches its memory, says so, and sleeps.
        unsafe {
            if libc::fork() == 0 {
                name_self();
                let mut hoard = vec![0u8; EACH];
                for i in (0..hoard.len()).step_by(4096) {
                    hoard[i] = 1;
                }
                libc::write(ready[1], [1u8].as_ptr().cast(), 1);
                libc::sleep(30);
                std::hint::black_box(&hoard);
                libc::_exit(0);
            }
        }
    }
    // Hold on until all three have their memory.
    let mut byte = [0u8; 1];
    for _ in 0..3 {
        // SAFETY: reads one byte into `byte`.
        unsafe { libc::read(ready[0], byte.as_mut_ptr().cast(), 1) };
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
}

pub fn in_the_heap() {}
