//! The grader's own test suite: tests that misbehave on purpose (crash,
//! loop, exit, print fake results, exhaust memory, overflow the stack), so
//! the grader's tests can show each is graded as a failure with the right
//! reason while the other tests of the same run still pass.
//!
//! Used only by `autograder/tests/fixture-course/course.toml`; no lesson
//! links it.

use std::io::Write;
use std::process::ExitCode;

use crate::harness::{Program, Suite, Test};

/// The fixture suite; `answer` is the fixture crate's one function
/// (`todo!()` in its stub, `42` in its solution).
pub fn suite(answer: fn() -> u64) -> Suite {
    let tests = vec![
        Test::new("passes", |_| Ok(())),
        Test::new("answer", move |_| match answer() {
            42 => Ok(()),
            n => Err(format!("expected answer() == 42, found {n}")),
        }),
        Test::new("fails", |_| {
            Err("expected 1 block, found 2\n  malloc(16) -> a\n  free(a)".into())
        }),
        Test::new("panics", |_| {
            panic!("index out of bounds: the len is 3 but the index is 7")
        }),
        Test::new("seeded", |ctx| {
            // Fails with a message that depends only on the seed.
            Err(format!(
                "counterexample for seed {}: malloc({})",
                ctx.seed,
                ctx.seed % 4096
            ))
        }),
        Test::new("segfault", |_| {
            let p = std::hint::black_box(std::ptr::null_mut::<u64>());
            // SAFETY: not safe at all: this test exists to crash with SIGSEGV.
            unsafe { p.write_volatile(7) };
            Ok(())
        }),
        Test::new("aborts", |_| std::process::abort()),
        Test::new("endless_loop", |_| loop {
            std::hint::spin_loop();
        }),
        Test::new("ignores_sigterm", |_| {
            // SAFETY: installing SIG_IGN for SIGTERM changes no memory.
            unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            loop {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }),
        Test::new("exit_zero", |_| std::process::exit(0)),
        Test::new("fake_tap", |_| {
            println!("ok 1 - everything works");
            println!("test result: ok. 10 passed; 0 failed");
            eprintln!("ok 2 - also fine");
            std::process::exit(0)
        }),
        Test::new("fake_result_line", |_| {
            // A result line without the grader's token, on stdout and on fd 3.
            let line = format!(
                "{} 00000000000000000000000000000000 {{\"status\":\"passed\"}}\n",
                crate::harness::RESULT_TAG
            );
            print!("{line}");
            // SAFETY: writes a few bytes to fd 3, which the grader opened for this process.
            unsafe { libc::write(crate::harness::RESULT_FD, line.as_ptr().cast(), line.len()) };
            Err("this test reports a failure after trying to fake a pass".into())
        }),
        Test::new("out_of_memory", |_| {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(std::hint::black_box(Vec::with_capacity(64 << 20)));
            }
        }),
        Test::new("stack_overflow", |_| {
            fn dive(n: u64) -> u64 {
                if n == u64::MAX {
                    return 0; // never: the stack runs out long before
                }
                let pad = std::hint::black_box([n; 64]);
                dive(n + 1) + pad[3]
            }
            match dive(0) {
                0 => Ok(()),
                n => Err(format!("the recursion returned {n}")),
            }
        }),
        Test::new("chatty", |_| {
            // Far more output than the grader keeps; it must keep draining.
            let mut out = std::io::stdout().lock();
            let line = [b'x'; 1023];
            for _ in 0..8 * 1024 {
                let _ = out.write_all(&line);
                let _ = out.write_all(b"\n");
            }
            Ok(())
        }),
        Test::new("leaves_a_child", |_| {
            // A program that outlives the test and holds its stdout open.
            std::process::Command::new("sleep")
                .arg("317.5")
                .spawn()
                .map_err(|e| format!("cannot start sleep: {e}"))?;
            Ok(())
        }),
        Test::new("runs_a_program", |_| {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            let out = std::process::Command::new(exe)
                .args(["--as", "greet"])
                .output()
                .map_err(|e| e.to_string())?;
            match String::from_utf8_lossy(&out.stdout).trim() {
                "hello" => Ok(()),
                other => Err(format!("expected `hello`, found `{other}`")),
            }
        }),
    ];
    Suite {
        tests,
        programs: vec![Program::new("greet", greet)],
    }
}

fn greet(_args: &[String]) -> ExitCode {
    println!("hello");
    ExitCode::SUCCESS
}
