//! Console blocks: what a page asks students to type, run as they would.
//!
//! A ```` ```console ```` block is a terminal session: lines starting `$ `
//! are commands typed at the course root (`$ cd DIR` moves on for the rest
//! of the block; a line ending in `\` continues on the next), every other
//! line is what they print. Words after `console` say how the block is run:
//!
//! - `manual`: students run it, this test does not (it takes minutes, or
//!   needs a tool CI lacks); say why in the text around it;
//! - `check-output`: the lines shown are exactly what the commands print;
//! - `needs=TOOL`: run only where `TOOL` works; elsewhere it is reported as
//!   not run.
//!
//! The commands run as a student who has finished the lesson would type
//! them: against the reference solution (`cargo grade … lessonN` gets
//! `--solution`, `lessons/` reads `solutions/`, `-p lessonN` reads
//! `-p lessonN-solution`, `--bin NAME` reads `--bin NAME-solution`: the
//! names the reference crates use), and `cargo grade bench` times each
//! replay once (`--min-time-ms 1`), since no page checks a speed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::markdown::Page;

/// Lines in other blocks that start like a command someone would type.
const COMMAND_STARTS: [&str; 9] = [
    "cargo ",
    "cd ",
    "cc ",
    "just ",
    "strace ",
    "LD_PRELOAD=",
    "HEAPLAB_",
    "rm ",
    "awk ",
];

/// A block's longest run, in seconds, before it is stopped.
const TIMEOUT_SECONDS: u32 = 300;

/// One console block.
pub struct Session {
    pub page: String,
    /// Line of the opening fence.
    pub line: usize,
    pub commands: Vec<String>,
    /// Every line that is not a command.
    pub output: Vec<String>,
    pub manual: bool,
    pub check_output: bool,
    pub needs: Option<String>,
}

impl Session {
    pub fn place(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// The console blocks of `page`, and what breaks the convention: a command
/// outside a console block, an unknown word after `console`, a console block
/// without a command.
pub fn sessions(page: &Page) -> (Vec<Session>, Vec<String>) {
    let mut sessions = Vec::new();
    let mut problems = Vec::new();
    for fence in page.fences() {
        let place = format!("{}:{}", page.name, fence.line);
        if fence.lang != "console" {
            for (i, line) in fence.body.iter().enumerate() {
                let line = line.trim_start();
                if line.starts_with("$ ") || COMMAND_STARTS.iter().any(|c| line.starts_with(c)) {
                    problems.push(format!(
                        "{}:{}: a command in a ```{} block: put it in a ```console block (`$ ` before it), or reword it",
                        page.name,
                        fence.line + 1 + i,
                        fence.lang
                    ));
                }
            }
            continue;
        }
        let mut session = Session {
            page: page.name.clone(),
            line: fence.line,
            commands: Vec::new(),
            output: Vec::new(),
            manual: false,
            check_output: false,
            needs: None,
        };
        for attr in &fence.attrs {
            match attr.as_str() {
                "manual" => session.manual = true,
                "check-output" => session.check_output = true,
                _ => match attr.strip_prefix("needs=") {
                    Some(tool) => session.needs = Some(tool.to_string()),
                    None => problems.push(format!(
                        "{place}: unknown word `{attr}` after console (manual, check-output, needs=TOOL)"
                    )),
                },
            }
        }
        let mut continued = false;
        for line in &fence.body {
            if continued {
                session
                    .commands
                    .last_mut()
                    .unwrap()
                    .push_str(&format!("\n{line}"));
            } else if let Some(command) = line.strip_prefix("$ ") {
                session.commands.push(command.to_string());
            } else {
                session.output.push(line.trim_end().to_string());
                continue;
            }
            continued = line.ends_with('\\');
        }
        if session.commands.is_empty() {
            problems.push(format!(
                "{place}: a console block with no `$ ` command: make it ```text"
            ));
        }
        if session.manual && session.check_output {
            problems.push(format!(
                "{place}: `manual` and `check-output` together: nothing would check the output"
            ));
        }
        sessions.push(session);
    }
    (sessions, problems)
}

/// `command` as a student who has finished the lesson types it: against the
/// reference solution.
pub fn as_finished_student(command: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut grading = false;
    let mut lesson_seen = false;
    let mut after_p = false;
    let mut after_bin = false;
    let chooses = command.contains("--solution") || command.contains("--submission");
    for word in command.split(' ') {
        let mut word = word.replace("lessons/", "solutions/");
        if (after_p && is_lesson(name(&word))) || (after_bin && !name(&word).ends_with("-solution"))
        {
            let end = name(&word).len();
            word.insert_str(end, "-solution");
        }
        after_p = word == "-p" || word == "--package";
        after_bin = word == "--bin";
        let grade_lesson = grading && !lesson_seen && !chooses && is_lesson(&word);
        if words.last().is_some_and(|w| w == "cargo") && word == "grade" {
            grading = true;
        }
        if matches!(word.as_str(), "|" | "&&" | ";" | "||") {
            grading = false;
        }
        let bench = words.last().is_some_and(|w| w == "bench");
        words.push(word);
        if grade_lesson {
            lesson_seen = true;
            words.push("--solution".to_string());
            if bench && !command.contains("--min-time-ms") {
                // Timing is not what the page checks: one quick run each.
                words.push("--min-time-ms 1".to_string());
            }
        }
    }
    words.join(" ")
}

/// The name at the start of `word`, before any `;`, `)` or quote.
fn name(word: &str) -> &str {
    let end = word
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(word.len());
    &word[..end]
}

/// `lesson4`, `lesson12`: a lesson id.
fn is_lesson(word: &str) -> bool {
    word.strip_prefix("lesson")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Whether `tool` is installed and works here (strace also needs ptrace).
pub fn tool_works(tool: &str) -> bool {
    let probe = match tool {
        "strace" => "strace -o /dev/null true".to_string(),
        _ => format!("command -v {tool}"),
    };
    Command::new("bash")
        .args(["-c", &format!("{probe} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs the block's commands in one `bash` (with `pipefail`) at `root`; returns
/// what they printed (stdout and stderr together), or why they failed.
/// Files the commands leave at the root or in a folder they `cd` into are
/// removed afterwards.
pub fn run(root: &Path, session: &Session) -> Result<String, String> {
    let commands: Vec<String> = session
        .commands
        .iter()
        .map(|c| as_finished_student(c))
        .collect();
    let folders = folders_entered(root, &commands);
    let before: Vec<BTreeSet<PathBuf>> = folders.iter().map(|f| entries(f)).collect();
    // Each command as typed (a `;` inside one does not stop it), and the
    // first that fails ends the block.
    let steps: Vec<String> = commands
        .iter()
        .map(|c| format!("{{ {c}\n}} || exit $?"))
        .collect();
    let script = format!("set -o pipefail\nexec 2>&1\n{}\n", steps.join("\n"));
    let out = Command::new("timeout")
        .args([
            "--kill-after=10",
            &TIMEOUT_SECONDS.to_string(),
            "bash",
            "-c",
            &script,
        ])
        .current_dir(root)
        .env("NO_COLOR", "1")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("HEAPLAB_MANIFEST")
        .output()
        .map_err(|e| format!("cannot run bash: {e}"))?;
    for (folder, before) in folders.iter().zip(&before) {
        for new in entries(folder).difference(before) {
            let _ = std::fs::remove_dir_all(new).or_else(|_| std::fs::remove_file(new));
        }
    }
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(printed)
    } else {
        Err(format!(
            "exit status {} (124: stopped after {TIMEOUT_SECONDS} s)\n  ran:\n    {}\n  printed:\n{}",
            out.status.code().unwrap_or(-1),
            commands.join("\n    "),
            indent(&printed)
        ))
    }
}

/// Compares what the block printed with the lines it shows.
pub fn compare_output(session: &Session, printed: &str) -> Result<(), String> {
    let mut got: Vec<&str> = printed.lines().map(str::trim_end).collect();
    while got.last() == Some(&"") {
        got.pop();
    }
    let mut want: Vec<&str> = session.output.iter().map(String::as_str).collect();
    while want.last() == Some(&"") {
        want.pop();
    }
    if got == want {
        return Ok(());
    }
    Err(format!(
        "the output differs from the page\n  page shows:\n{}\n  commands printed:\n{}",
        indent(&want.join("\n")),
        indent(&got.join("\n"))
    ))
}

/// The root, and every folder a `cd` in `commands` moves into.
fn folders_entered(root: &Path, commands: &[String]) -> Vec<PathBuf> {
    let mut folders = vec![root.to_path_buf()];
    let mut here = root.to_path_buf();
    for command in commands {
        if let Some(dir) = command.trim().strip_prefix("cd ") {
            here = here.join(dir.trim());
            folders.push(here.clone());
        }
    }
    folders
}

fn entries(folder: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(folder)
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}\n")).collect()
}
