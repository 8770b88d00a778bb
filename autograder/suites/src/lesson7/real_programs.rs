//! Real programs under `LD_PRELOAD` of the student's library: each run with
//! the system's allocator and with the library, and compared: the same
//! output, the same exit status, the library really used, in time.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use heaplab_protocol::Failure;

use crate::outside::{self, artifact, find_program, notice_todo, tail, Ran};

/// One real program: its name, arguments and an input file it needs.
struct Case {
    title: &'static str,
    program: &'static str,
    args: Vec<String>,
    /// Run through `sh -c` (pipes, several processes).
    shell: bool,
    /// The program surely calls malloc (gzip, for one, may not at all).
    allocates: bool,
}

/// At least this many programs must run (be installed) for a pass.
const MIN_RAN: usize = 5;

const PYTHON_DICT: &str = include_str!("../../programs/lesson7/big-dict.py");
const PYTHON_THREADS: &str = include_str!("../../programs/lesson7/threads.py");
const PYTHON_FORK: &str = include_str!("../../programs/lesson7/fork-while-threads-allocate.py");

fn case(title: &'static str, program: &'static str, args: &[&str], allocates: bool) -> Case {
    Case {
        title,
        program,
        args: args.iter().map(|a| a.to_string()).collect(),
        shell: program == "sh",
        allocates,
    }
}

/// The programs, reading `words` (a file of 200k lines) and writing `gz`.
fn cases(words: &str, gz: &str) -> Vec<Case> {
    let listing = if Path::new("/usr/share/doc").is_dir() {
        "/usr/share/doc"
    } else {
        "/etc"
    };
    let gzip_gunzip = format!("gzip -n -c {words} > {gz} && gunzip -c {gz} | md5sum");
    let pipeline = format!("cut -d' ' -f1 {words} | sort | uniq -c | sort -rn | head -5");
    let awk = "{ n[$1]++ } END { for (k in n) c++; print c, NR }";
    vec![
        case("ls -lR of a system folder", "ls", &["-lR", listing], true),
        case("sort of 200k lines", "sort", &[words], true),
        case(
            "sort, 4 threads, small buffer (temporary files)",
            "sort",
            &["--parallel=4", "-S", "2M", "-k2", words],
            true,
        ),
        case("gzip", "gzip", &["-n", "-c", words], false),
        case("gzip then gunzip", "sh", &[&gzip_gunzip], true),
        case("awk word counts", "awk", &[awk, words], true),
        case("a shell pipeline (fork and exec)", "sh", &[&pipeline], true),
        case(
            "python3: a big dict, sorted",
            "python3",
            &["-c", PYTHON_DICT],
            true,
        ),
        case(
            "python3: 4 threads",
            "python3",
            &["-c", PYTHON_THREADS],
            true,
        ),
        case(
            "python3: fork while threads allocate",
            "python3",
            &["-c", PYTHON_FORK],
            true,
        ),
        case("xz, 2 threads", "xz", &["-T2", "-3", "-c", words], true),
    ]
}

/// What running the cases gave.
#[derive(Default)]
struct Tally {
    ran: Vec<&'static str>,
    skipped: Vec<String>,
    failures: Vec<String>,
}

/// Runs each program with the system's allocator and with the student's
/// library: same stdout, same exit status, the library really used (its
/// statistics count allocations), within a time limit.
pub fn real_programs() -> Result<(), Failure> {
    let lib = artifact("library")?;
    let work = outside::student_dir()?;
    let dir = work.path();
    let words = dir.join("words.txt");
    write_words(&words, 200_000)
        .map_err(|e| format!("could not write {}: {e}", words.display()))?;
    let gz = dir.join("words.txt.gz");
    let all = cases(&words.to_string_lossy(), &gz.to_string_lossy());
    let mut tally = Tally::default();
    for case in &all {
        run_case(case, &lib, dir, &mut tally);
        let _ = fs::remove_file(&gz);
    }
    let summary = format!(
        "{} of {} programs ran ({}); skipped: {}",
        tally.ran.len(),
        all.len(),
        tally.ran.join(", "),
        if tally.skipped.is_empty() {
            "none".to_string()
        } else {
            tally.skipped.join("; ")
        }
    );
    if !tally.failures.is_empty() {
        return Err(Failure::text(format!(
            "{}\n\n{summary}",
            tally.failures.join("\n\n")
        )));
    }
    if tally.ran.len() < MIN_RAN {
        return Err(Failure::text(format!(
            "only {} programs could run here, fewer than the {MIN_RAN} this test needs to count \
             as passed: install the missing ones (coreutils, gzip, python3, xz-utils) or grade \
             on a machine that has them\n{summary}",
            tally.ran.len()
        )));
    }
    Ok(())
}

/// Runs one case both ways and adds what happened to `tally`.
fn run_case(case: &Case, lib: &Path, dir: &Path, tally: &mut Tally) {
    let Some(program) = find_program(case.program) else {
        let why = format!("{} ({} is not installed)", case.title, case.program);
        tally.skipped.push(why);
        return;
    };
    let command = |preload: bool| -> Result<Command, String> {
        let mut c = outside::command(&program)?;
        if case.shell {
            c.arg("-c");
        }
        c.args(&case.args).current_dir(dir).env("LC_ALL", "C");
        if preload {
            c.env("LD_PRELOAD", lib);
        }
        Ok(c)
    };
    let system = match command(false).and_then(|c| outside::run(c, Duration::from_secs(120))) {
        Ok(r) => r,
        Err(e) => {
            let why = format!(
                "{} (does not run with the system allocator: {e})",
                case.title
            );
            tally.skipped.push(why);
            return;
        }
    };
    let limit = Duration::from_secs(20).max(system.elapsed * 20);
    match command(true).and_then(|c| outside::run_watched(c, limit)) {
        Ok(theirs) => {
            tally.ran.push(case.title);
            notice_todo(&theirs.ran.stderr);
            let why = compare(case, &system, &theirs.ran)
                .or_else(|| not_used(case, lib, theirs.maps_at_exit.as_deref()));
            if let Some(why) = why {
                tally.failures.push(why);
            }
        }
        Err(e) => tally.failures.push(format!("{}: {e}", case.title)),
    }
}

/// What differs between the system allocator's run and the library's.
fn compare(case: &Case, system: &Ran, theirs: &Ran) -> Option<String> {
    if theirs.status.code() != system.status.code() {
        return Some(format!(
            "{}: exit status {:?} with the library, {:?} with the system allocator; its stderr:\n{}",
            case.title,
            theirs.status,
            system.status,
            tail(&theirs.stderr)
        ));
    }
    if theirs.stdout != system.stdout {
        let at = theirs
            .stdout
            .iter()
            .zip(&system.stdout)
            .position(|(a, b)| a != b)
            .unwrap_or(theirs.stdout.len().min(system.stdout.len()));
        return Some(format!(
            "{}: the output differs from the system allocator's from byte {at} on ({} bytes vs {})",
            case.title,
            theirs.stdout.len(),
            system.stdout.len()
        ));
    }
    None
}

/// Why the program did not use the library, from its memory map at exit
/// (the kernel's word): the library was not mapped, or the C library's own
/// malloc grew the program's `[heap]` (it gets its memory with brk; a
/// malloc of the lesson's maps pages instead).
fn not_used(case: &Case, lib: &Path, maps: Option<&str>) -> Option<String> {
    let maps = maps?;
    let lib = lib.canonicalize().unwrap_or_else(|_| lib.to_path_buf());
    if !maps.lines().any(|l| l.ends_with(&*lib.to_string_lossy())) {
        return Some(format!(
            "{}: the library was not loaded: the program's memory map at exit has no {} \
             (does it load with LD_PRELOAD by hand?)",
            case.title,
            lib.display()
        ));
    }
    if case.allocates && maps.lines().any(|l| l.ends_with("[heap]")) {
        return Some(format!(
            "{}: the library was loaded but the C library's malloc was used: the program's \
             [heap] grew, which only brk-based malloc does (are malloc, free, calloc and \
             realloc exported under their C names?)",
            case.title
        ));
    }
    None
}

/// `n` lines of two pseudo-random words each: sorting them takes work.
fn write_words(path: &Path, n: usize) -> std::io::Result<()> {
    let mut text = String::with_capacity(n * 16);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..n {
        for word in 0..2 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 3 + (x % 8) as usize;
            for k in 0..len {
                text.push((b'a' + ((x >> (5 * k)) % 26) as u8) as char);
            }
            text.push(if word == 0 { ' ' } else { '\n' });
        }
    }
    fs::write(path, text)
}
