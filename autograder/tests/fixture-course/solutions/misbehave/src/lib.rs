//! The fixture lesson's student code: the answer, and functions that
//! misbehave on purpose (crash, loop, exit, print fake results, exhaust
//! memory, overflow the stack, leave a program running), each called by
//! name by the fixture suite (`heaplab_suites::fixtures`).

use std::io::Write;
use std::process::ExitCode;

/// The answer the fixture suite checks.
pub fn answer() -> u64 {
    42
}

/// Every function the suite calls, by name.
pub const CALLS: &[(&str, fn() -> u64)] = &[
    ("answer", answer),
    ("panics", panics),
    ("segfault", segfault),
    ("aborts", aborts),
    ("endless_loop", endless_loop),
    ("ignores_sigterm", ignores_sigterm),
    ("exit_zero", exit_zero),
    ("fake_tap", fake_tap),
    ("fake_report", fake_report),
    ("out_of_memory", out_of_memory),
    ("stack_overflow", stack_overflow),
    ("chatty", chatty),
    ("leaves_a_child", leaves_a_child),
    ("runs_a_program", runs_a_program),
];

fn panics() -> u64 {
    let v = std::hint::black_box(vec![1u64, 2, 3]);
    v[std::hint::black_box(7)]
}

fn segfault() -> u64 {
    let p = std::hint::black_box(std::ptr::null_mut::<u64>());
    // SAFETY: not safe at all: this function exists to crash with SIGSEGV.
    unsafe { p.write_volatile(7) };
    42
}

fn aborts() -> u64 {
    std::process::abort()
}

fn endless_loop() -> u64 {
    loop {
        std::hint::spin_loop();
    }
}

fn ignores_sigterm() -> u64 {
    // SAFETY: installing SIG_IGN for SIGTERM changes no memory.
    unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
    loop {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn exit_zero() -> u64 {
    std::process::exit(0)
}

fn fake_tap() -> u64 {
    println!("ok 1 - everything works");
    println!("test result: ok. 10 passed; 0 failed");
    eprintln!("ok 2 - also fine");
    std::process::exit(0)
}

/// Prints what a passing checker's report looks like, on stdout and
/// stderr, then answers wrong.
fn fake_report() -> u64 {
    let line = r#"{"outcome":{"status":"passed"},"stdout":"","stderr":""}"#;
    println!("{line}");
    eprintln!("{line}");
    0
}

fn out_of_memory() -> u64 {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        hoard.push(std::hint::black_box(Vec::with_capacity(64 << 20)));
    }
}

fn stack_overflow() -> u64 {
    fn dive(n: u64) -> u64 {
        if n == u64::MAX {
            return 0; // never: the stack runs out long before
        }
        let pad = std::hint::black_box([n; 64]);
        dive(n + 1) + pad[3]
    }
    dive(0)
}

/// Far more output than the grader keeps; then the answer.
fn chatty() -> u64 {
    let mut out = std::io::stdout().lock();
    let line = [b'x'; 1023];
    for _ in 0..8 * 1024 {
        let _ = out.write_all(&line);
        let _ = out.write_all(b"\n");
    }
    42
}

/// A program that outlives the call and holds stdout open; then the answer.
fn leaves_a_child() -> u64 {
    match std::process::Command::new("sleep").arg("317.5").spawn() {
        Ok(_) => 42,
        Err(_) => 0,
    }
}

/// Runs this crate's program `greet` (`--as greet`): 42 if it said hello.
fn runs_a_program() -> u64 {
    let Ok(exe) = std::env::current_exe() else {
        return 0;
    };
    match std::process::Command::new(exe).args(["--as", "greet"]).output() {
        Ok(out) if String::from_utf8_lossy(&out.stdout).trim() == "hello" => 42,
        _ => 0,
    }
}

/// The program `greet`.
pub fn greet() -> ExitCode {
    println!("hello");
    ExitCode::SUCCESS
}
