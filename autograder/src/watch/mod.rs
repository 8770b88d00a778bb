//! Watch mode (`cargo grade lesson4 --watch`, or `cargo grade watch
//! lesson4`): grade, show the score and the first failure, and grade again
//! on every save of the crate's files, until `q`.
//!
//! - [`files`]: which saves count, and how they are noticed;
//! - [`screen`]: what the screen shows after a grade.
//!
//! Keys are read with the terminal in raw mode, only while waiting; a grade
//! runs with the terminal as usual (its build's progress bar, Ctrl-C).

pub mod files;
pub mod screen;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, terminal};

use crate::build::{BuildOptions, Variant};
use crate::course::Course;
use crate::grade::{self, Args, Quiet};
use crate::report::Graded;
use crate::Fatal;
use screen::{Stamp, View};

/// What ends a wait.
enum Wake {
    Saved,
    Key(char),
    Quit,
}

/// `grade LESSON --watch`: grades, then again on every save, until `q`.
pub fn run(args: &Args, manifest: Option<&Path>) -> Result<ExitCode, Fatal> {
    if args.format != grade::Format::Human || args.output.is_some() {
        return Err(Fatal::new(
            "--watch shows a screen for people: leave out --format and --output",
        ));
    }
    let course = Course::locate(manifest)?;
    let job = grade::job(&course, args, manifest)?;
    let dir = watched_dir(&course, &job);
    let (tx, saves) = mpsc::channel();
    let watch = files::watch(&dir, args.poll, tx)?;
    let shown_dir = dir
        .strip_prefix(&course.root)
        .unwrap_or(&dir)
        .display()
        .to_string();
    let options = BuildOptions {
        offline: args.offline,
        color: grade::screen_columns().is_some(),
        progress: true,
    };
    let mut number = 0;
    loop {
        number += 1;
        clear();
        grade::progress(&format!("grading {} (grade #{number}) …", job.lesson.id));
        let started = Instant::now();
        let graded = grade::grade(&job, &options, &mut Quiet);
        let stamp = Stamp {
            number,
            seconds: started.elapsed().as_secs_f64(),
            watching: &shown_dir,
            how: watch.how(),
        };
        // Saves made while grading: grade again at once.
        if saves.try_iter().count() > 0 {
            continue;
        }
        match show_until_saved(graded.as_ref(), &stamp, &saves)? {
            Wake::Quit => return Ok(ExitCode::SUCCESS),
            Wake::Saved | Wake::Key(_) => {}
        }
    }
}

/// Shows the grade (or why there is none) and answers keys until a save
/// (or `r`) asks for a new grade, or `q` for the end.
fn show_until_saved(
    graded: Result<&Graded, &Fatal>,
    stamp: &Stamp,
    saves: &Receiver<()>,
) -> Result<Wake, Fatal> {
    let mut view = View::Failure;
    loop {
        let lines = match graded {
            Ok(graded) => screen::render(graded, view, stamp, rows()),
            Err(fatal) => vec![
                format!("grade: {}", fatal.message),
                String::new(),
                format!("watching {} · r regrade · q quit", stamp.watching),
            ],
        };
        draw(&lines);
        match wait(saves)? {
            Wake::Key('h') => view = toggle(view, View::Hint),
            Wake::Key('l') => view = toggle(view, View::List),
            Wake::Key('r') => return Ok(Wake::Saved),
            Wake::Key(_) => {}
            other => return Ok(other),
        }
    }
}

fn toggle(view: View, to: View) -> View {
    if view == to {
        View::Failure
    } else {
        to
    }
}

/// The crate whose saves count: the one graded.
fn watched_dir(course: &Course, job: &grade::Job) -> std::path::PathBuf {
    match &job.variant {
        Variant::Student => course.student_dir(job.lesson),
        Variant::Solution => course.solution_dir(job.lesson),
        Variant::Submission(dir) => dir.clone(),
    }
}

/// Waits for a save or a key. Keys are read only when stdin is a
/// terminal; the terminal is in raw mode only for the wait.
fn wait(saves: &Receiver<()>) -> Result<Wake, Fatal> {
    if !std::io::stdin().is_terminal() {
        return match saves.recv() {
            Ok(()) => Ok(Wake::Saved),
            Err(_) => Ok(Wake::Quit),
        };
    }
    let _raw = RawMode::on()?;
    loop {
        match saves.recv_timeout(Duration::from_millis(20)) {
            Ok(()) => return Ok(Wake::Saved),
            Err(RecvTimeoutError::Disconnected) => return Ok(Wake::Quit),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if !event::poll(Duration::from_millis(30)).unwrap_or(false) {
            continue;
        }
        if let Ok(Event::Key(key)) = event::read() {
            if let Some(wake) = key_wake(key) {
                return Ok(wake);
            }
        }
    }
}

/// What a key press means: `q`, Esc and Ctrl-C end watch mode.
fn key_wake(key: KeyEvent) -> Option<Wake> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Wake::Quit),
        KeyCode::Char('q') | KeyCode::Esc => Some(Wake::Quit),
        KeyCode::Char(c) => Some(Wake::Key(c.to_ascii_lowercase())),
        _ => None,
    }
}

/// The terminal in raw mode (keys arrive one by one, unechoed) until dropped.
struct RawMode;

impl RawMode {
    fn on() -> Result<RawMode, Fatal> {
        terminal::enable_raw_mode()
            .map_err(|e| Fatal::new(format!("cannot read keys from the terminal: {e}")))?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// Rows of the terminal (or a screenful when not known).
fn rows() -> usize {
    match terminal::size() {
        Ok((_, rows)) if rows > 0 => usize::from(rows),
        _ => 40,
    }
}

fn clear() {
    let mut out = std::io::stdout();
    if out.is_terminal() {
        let _ = crossterm::execute!(
            out,
            terminal::Clear(terminal::ClearType::All),
            cursor::MoveTo(0, 0)
        );
    }
}

/// Clears the screen and writes `lines` (colour only where it shows).
fn draw(lines: &[String]) {
    clear();
    let mut out = anstream::stdout();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}
