//! The pages cannot drift from the kit. Over the pages students read (each
//! lesson's page, docs/traces.md, docs/allocators.md):
//!
//! - each lesson page's test table is course.toml's tests ([`tables`]);
//! - each lesson page's task table names its stub's TODOs ([`tasks`]);
//! - every command a page shows is in a console block, and every console
//!   block runs, as a student who finished the lesson would type it, unless
//!   it is marked `manual`; checked output is compared ([`console`]);
//! - every number marked `<!-- n:KEY -->` is what the reference heaps give
//!   today ([`numbers`]); `HEAPLAB_BLESS=1` rewrites the pages with them;
//! - speeds are ratios, with the command and the date measured ([`speeds`]).
//!
//! `cargo test -p heaplab-autograder --test docs`; the conventions are in
//! docs/design.md ("Pages that cannot drift").

mod checks_fail;
mod console;
mod markdown;
mod numbers;
mod reference;
mod speeds;
mod tables;
mod tasks;

use std::path::{Path, PathBuf};
use std::time::Instant;

use markdown::Page;

/// Pages that are not a lesson's but that students read and run.
const OTHER_PAGES: [&str; 2] = ["docs/traces.md", "docs/allocators.md"];

/// The course's root folder (the workspace).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn manifest() -> tables::Manifest {
    let text = std::fs::read_to_string(root().join("course.toml")).unwrap();
    toml::from_str(&text).expect("course.toml parses")
}

/// Every page the checks read; `HEAPLAB_DOCS_PAGE=docs/lesson2.md` reads
/// only that one, while a page is being written.
fn pages() -> Vec<Page> {
    let mut names: Vec<String> = manifest().lessons.into_iter().map(|l| l.page).collect();
    names.extend(OTHER_PAGES.iter().map(|p| p.to_string()));
    if let Ok(only) = std::env::var("HEAPLAB_DOCS_PAGE") {
        names.retain(|n| *n == only);
    }
    names.iter().map(|n| Page::read(&root(), n)).collect()
}

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn test_tables_are_course_toml() {
    let mut problems = Vec::new();
    for lesson in manifest().lessons {
        let page = Page::read(&root(), &lesson.page);
        problems.extend(tables::problems(&lesson, &page));
    }
    assert_none(problems);
}

#[test]
fn task_tables_are_the_stubs_todos() {
    let mut problems = Vec::new();
    for lesson in manifest().lessons {
        let page = Page::read(&root(), &lesson.page);
        let stub = root().join("lessons").join(&lesson.dir);
        problems.extend(tasks::problems(&lesson, &page, &stub));
    }
    assert_none(problems);
}

#[test]
fn commands_are_in_console_blocks() {
    assert_none(
        pages()
            .iter()
            .flat_map(|p| console::sessions(p).1)
            .collect(),
    );
}

#[test]
fn console_blocks_run() {
    let started = Instant::now();
    let mut problems = Vec::new();
    let (mut ran, mut manual) = (0, 0);
    for page in pages() {
        for session in console::sessions(&page).0 {
            if session.manual {
                manual += 1;
                continue;
            }
            if let Some(tool) = &session.needs {
                if !console::tool_works(tool) {
                    eprintln!(
                        "NOT RUN {}: needs {tool}, which does not work here",
                        session.place()
                    );
                    continue;
                }
            }
            let block = Instant::now();
            let result = console::run(&root(), &session).and_then(|printed| {
                if session.check_output {
                    console::compare_output(&session, &printed)
                } else {
                    Ok(())
                }
            });
            eprintln!(
                "ran {} in {:.1} s",
                session.place(),
                block.elapsed().as_secs_f64()
            );
            ran += 1;
            if let Err(why) = result {
                problems.push(format!("{}: {why}", session.place()));
            }
        }
    }
    eprintln!(
        "{ran} console blocks run, {manual} manual, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(ran > 0, "no console block ran");
    assert_none(problems);
}

#[test]
fn quoted_numbers_are_the_kits() {
    let facts = numbers::Facts::new(&root());
    let bless = std::env::var_os("HEAPLAB_BLESS").is_some_and(|v| v == "1");
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let (marked, mut found) = numbers::marked(&page);
        problems.append(&mut found);
        let mut text = page.text.clone();
        // Back to front, so that rewriting one number leaves the offsets of
        // the ones before it valid.
        for m in marked.iter().rev() {
            checked += 1;
            let want = if m.key == "shown" {
                shown(&page, m)
            } else {
                facts.value(&m.key)
            };
            match want {
                Err(why) => problems.push(format!("{}:{}: {why}", page.name, m.line)),
                Ok(want) if numbers::same(&m.value, &want) => {}
                Ok(want) if bless && m.key != "shown" => {
                    let want = numbers::restyle(&m.value, &want);
                    eprintln!("{}:{}: {} {} → {want}", page.name, m.line, m.key, m.value);
                    text.replace_range(m.start..m.start + m.value.len(), &want);
                }
                Ok(want) => problems.push(format!(
                    "{}:{}: the page says {} for {}, the kit gives {want} (HEAPLAB_BLESS=1 rewrites it)",
                    page.name, m.line, m.value, m.key
                )),
            }
        }
        if text != page.text {
            std::fs::write(&page.path, text).unwrap();
        }
    }
    assert!(checked > 0, "no page marks a number");
    assert_none(problems);
}

/// A `shown` number must appear in the checked console output nearest above it.
fn shown(page: &Page, m: &numbers::Marked) -> Result<String, String> {
    let (sessions, _) = console::sessions(page);
    let session = sessions
        .iter()
        .rfind(|s| s.check_output && s.line < m.line)
        .ok_or("`shown`, but no check-output console block above it")?;
    let printed = session.output.join("\n");
    let found = printed
        .split(|c: char| !(c.is_ascii_alphanumeric() || ".,%".contains(c)))
        .any(|word| word.trim_end_matches([',', '.']) == m.value);
    if found {
        Ok(m.value.clone())
    } else {
        Err(format!(
            "{} is not in the output shown at line {}",
            m.value, session.line
        ))
    }
}

#[test]
fn speeds_are_ratios_with_command_and_date() {
    assert_none(pages().iter().flat_map(speeds::problems).collect());
}
