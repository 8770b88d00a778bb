//! Each lesson page's task list is its stub's TODOs: the page's tables
//! headed `| item | file | what it does |` (one, or one per part of the
//! lesson) name, file by file, exactly the functions of `lessons/<dir>/src/`
//! that hold a `// TODO:`.
//!
//! An item names a function (`FreeList::push(chunk)`, `malloc`: the path
//! and the arguments are read past, only the last name counts) or a whole
//! trait impl (`GlobalAlloc for LockedHeap`: every TODO inside that impl);
//! one cell may name several, each in its own backticks.

use std::collections::BTreeSet;
use std::path::Path;

use crate::markdown::Page;
use crate::tables::Lesson;

/// The header of every lesson page's task table.
pub const HEADER: [&str; 3] = ["item", "file", "what it does"];

/// A TODO of the stub: its file, the function it is in, and the impl
/// (`Trait for Type`) that function is in, if any.
#[derive(Debug)]
pub struct Todo {
    pub file: String,
    pub line: usize,
    pub function: Option<String>,
    pub trait_impl: Option<String>,
}

/// What is wrong with `page`'s task table for the stub in `stub`, one line
/// each.
pub fn problems(lesson: &Lesson, page: &Page, stub: &Path) -> Vec<String> {
    let todos = todos(stub);
    let tables: Vec<_> = page
        .tables()
        .into_iter()
        .filter(|t| t.header == HEADER)
        .collect();
    let Some(table) = tables.first() else {
        if todos.is_empty() {
            return Vec::new();
        }
        return vec![format!(
            "{}: want a table headed `| {} |` (the TODOs of {}'s stub), found none",
            page.name,
            HEADER.join(" | "),
            lesson.id,
        )];
    };
    let mut items: BTreeSet<(String, String)> = BTreeSet::new();
    for (_, cells) in tables.iter().flat_map(|t| &t.rows) {
        for file in ticked(&cells[1]) {
            items.extend(
                ticked(&cells[0])
                    .into_iter()
                    .map(|i| (file.clone(), item(&i))),
            );
        }
    }
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for todo in &todos {
        match covering(todo, &items) {
            Some(key) => {
                used.insert(key);
            }
            None => problems.push(format!(
                "{}: the stub's TODO at {}:{} (in {}) is not in the task table at line {}",
                page.name,
                todo.file,
                todo.line,
                todo.function.as_deref().unwrap_or("no function"),
                table.line
            )),
        }
    }
    for (file, name) in items.difference(&used) {
        problems.push(format!(
            "{}:{}: the task table names `{name}` in `{file}`, where the stub has no TODO",
            page.name, table.line
        ));
    }
    problems
}

/// The table item that covers `todo`: its function by name, or its impl.
fn covering(todo: &Todo, items: &BTreeSet<(String, String)>) -> Option<(String, String)> {
    [todo.function.clone(), todo.trait_impl.clone()]
        .into_iter()
        .flatten()
        .map(|name| (todo.file.clone(), name))
        .find(|key| items.contains(key))
}

/// The texts in backticks in a cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// An item's key: `Trait for Type` as it is, else the last name of a path,
/// without arguments (`FreeList::push(chunk)` is `push`).
fn item(text: &str) -> String {
    if text.contains(" for ") {
        return text.to_string();
    }
    let name = text.split('(').next().unwrap_or(text);
    name.rsplit("::").next().unwrap_or(name).trim().to_string()
}

/// Every `// TODO:` of the `.rs` files in `dir/src`.
pub fn todos(dir: &Path) -> Vec<Todo> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("src"))
        .unwrap_or_else(|e| panic!("cannot read {}/src: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            todos_in(&name, &std::fs::read_to_string(path).unwrap())
        })
        .collect()
}

/// The TODOs of one file, `name`, with the function and impl each is in
/// (by rustfmt's layout: an impl opens at column 0 and closes with `}`
/// there; the last `fn` line above a TODO is its function).
pub fn todos_in(name: &str, text: &str) -> Vec<Todo> {
    let (mut function, mut trait_impl) = (None, None);
    let mut todos = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("impl") || line.starts_with("unsafe impl") {
            trait_impl = impl_name(line);
        } else if line.starts_with('}') {
            (function, trait_impl) = (None, None);
        }
        if let Some(f) = fn_name(line) {
            function = Some(f);
        }
        if line.trim_start().starts_with("// TODO:") {
            todos.push(Todo {
                file: name.to_string(),
                line: i + 1,
                function: function.clone(),
                trait_impl: trait_impl.clone(),
            });
        }
    }
    todos
}

/// `Trait for Type` of an impl line (generics dropped); `None` for an
/// inherent impl.
fn impl_name(line: &str) -> Option<String> {
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in line.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = plain
        .split_whitespace()
        .filter(|w| !matches!(*w, "unsafe" | "impl" | "{"))
        .collect();
    match words.as_slice() {
        [t, "for", ty, ..] => Some(format!("{t} for {ty}")),
        _ => None,
    }
}

/// The name a line declares with `fn`, if it does.
fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let name = words.get(at + 1)?;
    let before_ok = words[..at].iter().all(|w| {
        w.starts_with("pub") || matches!(*w, "const" | "unsafe" | "extern" | "\"C\"" | "async")
    });
    before_ok.then(|| name.split(['(', '<']).next().unwrap_or(name).to_string())
}
