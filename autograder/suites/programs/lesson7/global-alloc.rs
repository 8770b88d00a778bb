//! heaplab lesson 7's Rust test program: the student's heap as this
//! program's `#[global_allocator]`. Collections, strings, threads and
//! `fork` allocate through it; each check prints one line, and the last line
//! is `all checks passed` only if every check did. The workloads are kept
//! small: the course's first-fit list is O(free chunks) per call, and the
//! grader runs this under a time limit (docs/performance.md measures it).
//!
//! The suite builds it in a generated crate whose `student` dependency is
//! the crate under test (see `src/lesson7/preload.rs`).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;

#[global_allocator]
static HEAP: student::Malloc = student::Malloc;

fn collections() -> Result<(), String> {
    let mut v: Vec<u64> = Vec::new();
    for i in 0..200_000u64 {
        v.push(i * i); // grows by realloc, many times
    }
    let sum: u64 = v.iter().sum();
    let want: u64 = (0..200_000u64).map(|i| i * i).sum();
    if sum != want {
        return Err(format!("Vec sum {sum}, expected {want}"));
    }
    v.truncate(10);
    v.shrink_to_fit(); // realloc down
    if v != [0, 1, 4, 9, 16, 25, 36, 49, 64, 81] {
        return Err(format!("Vec after shrink_to_fit: {v:?}"));
    }
    let mut map = HashMap::new();
    let mut tree = BTreeMap::new();
    for i in 0..10_000 {
        map.insert(format!("key{i}"), i);
        tree.insert(i * 7 % 10_000, i.to_string());
    }
    if map.len() != 10_000 || map["key4242"] != 4242 || tree.len() != 10_000 || tree[&7] != "1" {
        return Err("HashMap/BTreeMap contents wrong".to_string());
    }
    let mut deque: VecDeque<Box<[u8; 100]>> = (0..1000).map(|i| Box::new([i as u8; 100])).collect();
    deque.rotate_left(17);
    if deque[0][99] != 17 {
        return Err("VecDeque of boxes wrong".to_string());
    }
    Ok(())
}

fn strings() -> Result<(), String> {
    let mut s = String::new();
    for i in 0..20_000 {
        s.push_str(&i.to_string());
    }
    let words: Vec<String> = s
        .as_bytes()
        .chunks(7)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut sorted = words.clone();
    sorted.sort();
    sorted.dedup();
    let joined = words.concat();
    if joined != s || sorted.is_empty() {
        return Err("strings: split and join lost bytes".to_string());
    }
    // Over-aligned allocations (Layout align 4096).
    #[repr(align(4096))]
    struct Page([u8; 4096]);
    let pages: Vec<Box<Page>> = (0..20).map(|i| Box::new(Page([i; 4096]))).collect();
    for (i, p) in pages.iter().enumerate() {
        if (&**p as *const Page as usize) % 4096 != 0 || p.0[4095] != i as u8 {
            return Err("a 4096-aligned Box is misaligned or lost its bytes".to_string());
        }
    }
    Ok(())
}

fn threads() -> Result<(), String> {
    let shared = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let shared = Arc::clone(&shared);
            let tx = tx.clone();
            thread::spawn(move || {
                let mut local: Vec<String> = Vec::new();
                for i in 0..20_000 {
                    local.push(format!("{t}-{i}"));
                    if i % 100 == 99 {
                        local.drain(..50);
                    }
                }
                let total: usize = local.iter().map(String::len).sum();
                shared.lock().unwrap().push(total);
                tx.send(local.len()).unwrap();
            })
        })
        .collect();
    drop(tx);
    for w in workers {
        w.join().map_err(|_| "a thread panicked".to_string())?;
    }
    let counts: Vec<usize> = rx.iter().collect();
    if counts.len() != 4 || shared.lock().unwrap().len() != 4 {
        return Err(format!("threads: {counts:?}"));
    }
    Ok(())
}

/// fork while another thread allocates without pause: the child's first
/// allocation must not find the heap's lock held by a thread it does not
/// have (pthread_atfork handlers).
fn fork_while_allocating() -> Result<(), String> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let v: Vec<u8> = vec![1; 200];
                    std::hint::black_box(v);
                }
            })
        })
        .collect();
    let mut result = Ok(());
    for round in 0..100 {
        // SAFETY: the child only allocates, frees and calls _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            result = Err("fork failed".to_string());
            break;
        }
        if pid == 0 {
            let v: Vec<u64> = (0..1000).collect();
            let code = if v.iter().sum::<u64>() == 499_500 {
                0
            } else {
                1
            };
            // SAFETY: ends the child without running the parent's destructors.
            unsafe { libc::_exit(code) };
        }
        // The child has 5 s; a deadlocked one is killed and reported.
        let mut status = 0;
        let mut waited = 0;
        loop {
            // SAFETY: waits for our own child without blocking.
            let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
            if r == pid {
                break;
            }
            waited += 1;
            if waited > 5000 {
                // SAFETY: our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                // SAFETY: reap it.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                result = Err(format!("fork round {round}: the child hung in its first allocation (the heap's lock was held across fork?)"));
                break;
            }
            thread::sleep(std::time::Duration::from_millis(1));
        }
        if result.is_err() {
            break;
        }
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            result = Err(format!(
                "fork round {round}: the child ended with status {status:#x}"
            ));
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for b in busy {
        let _ = b.join();
    }
    result
}

fn main() -> ExitCode {
    let checks: [(&str, fn() -> Result<(), String>); 4] = [
        ("collections", collections),
        ("strings", strings),
        ("threads", threads),
        ("fork while allocating", fork_while_allocating),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        let started = std::time::Instant::now();
        let result = check();
        let ms = started.elapsed().as_millis();
        match result {
            Ok(()) => println!("ok: {name} ({ms} ms)"),
            Err(e) => {
                failed += 1;
                println!("FAILED: {name} ({ms} ms): {e}");
            }
        }
    }
    let stats = student::process_stats();
    if stats.chunks_allocated == 0 {
        println!("FAILED: student::process_stats() counts no allocation: was the heap used?");
        failed += 1;
    } else {
        println!(
            "heap: {} chunks allocated, {} freed",
            stats.chunks_allocated, stats.chunks_freed
        );
    }
    if failed == 0 {
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
