//! Panics in the student's code become replies: the message, where, and
//! whether it was a `todo!()` the student has not written yet.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use heaplab_protocol::Reply;

/// The last panic: message and `file:line:col`.
static LAST: Mutex<Option<(String, String)>> = Mutex::new(None);
/// The first `todo!()` reached, on any thread of this process: a request
/// whose threads reached one is "not implemented", however it ended.
static TODO: Mutex<Option<String>> = Mutex::new(None);

fn is_todo(message: &str) -> bool {
    message.starts_with("not yet implemented") || message.starts_with("not implemented")
}

/// Records every panic (and still prints it to stderr, where a student
/// running the subject by hand looks for it).
pub fn install() {
    panic::set_hook(Box::new(|info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic".to_string()
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        eprintln!("panicked at {location}:\n{message}");
        if is_todo(&message) {
            TODO.lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert(location.clone());
        }
        *LAST.lock().unwrap_or_else(|p| p.into_inner()) = Some((message, location));
    }));
}

/// Runs `f`; a panic becomes [`Reply::Panicked`], and so does any reply
/// once a `todo!()` was reached on another thread (the threads workload).
pub fn catch(f: impl FnOnce() -> Reply) -> Reply {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(reply) => match TODO.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            Some(location) => Reply::Panicked {
                message: "not yet implemented".into(),
                location,
                todo: true,
            },
            None => reply,
        },
        Err(_) => {
            let (message, location) = LAST
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_else(|| ("a panic".to_string(), String::new()));
            let todo = is_todo(&message);
            Reply::Panicked {
                message,
                location,
                todo,
            }
        }
    }
}
