//! One root cause, said once: tests that fail on the same broken rule (or
//! the same crash, the same `todo!()`) share a *cause key*, so the human
//! report shows the first of them in full and the others in one line each,
//! and the JSON report names, for each, the test that shows it.

use heaplab_protocol::{checks, Outcome};

/// What makes two failures "the same": the rule that broke (with, for a
/// stop of the student's process, how and in which call it stopped), or for
/// a failure without a rule its first line with the numbers and block names
/// taken out. `None` for a pass, and for what cannot be shared (a kit error,
/// a measurement).
pub fn key(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Passed | Outcome::KitError { .. } | Outcome::Measured { .. } => None,
        Outcome::NotImplemented { location } => Some(format!("todo {location}")),
        Outcome::TimedOut { .. } => Some(checks::TIMEOUT.to_string()),
        Outcome::DidNotCompile { .. } => Some("did not compile".to_string()),
        Outcome::Failed { failure }
        | Outcome::Crashed { failure, .. }
        | Outcome::Hung { failure, .. }
        | Outcome::ExitedEarly { failure, .. } => {
            let call = failure
                .step
                .as_ref()
                .map(|(_, op)| function_of(op))
                .unwrap_or_default();
            let stop = match outcome {
                Outcome::Crashed { signal, .. } => format!(" {signal} in {call}"),
                Outcome::Hung { .. } | Outcome::ExitedEarly { .. } => format!(" in {call}"),
                _ => String::new(),
            };
            let rule = if failure.check.is_empty() || failure.check == checks::PANIC {
                // A panic is one cause per place it panicked, and a
                // failure without a rule is known only by what it says.
                format!(
                    "{} {}",
                    failure.check,
                    blank_numbers(failure.what.lines().next().unwrap_or(""))
                )
            } else {
                failure.check.clone()
            };
            Some(format!("{}: {rule}{stop}", outcome.label()))
        }
    }
}

/// `a3 = malloc(24)` → `malloc`; `free(a3)` → `free`.
fn function_of(op: &str) -> &str {
    let call = op.rsplit(" = ").next().unwrap_or(op);
    call.split('(').next().unwrap_or(call).trim()
}

/// The text with every number (decimal or hex) and block name (`a17`) made
/// `#`: `a4 is not 16-byte aligned` and `a9 is not 16-byte aligned` match.
pub fn blank_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        let block_name = c == 'a'
            && !prev.is_some_and(|p| p.is_ascii_alphanumeric())
            && chars.peek().is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || block_name {
            while chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) {
                chars.next();
            }
            out.push('#');
            prev = Some('#');
        } else {
            out.push(c);
            prev = Some(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplab_protocol::Failure;

    fn failed(check: &str, what: &str, step: &str) -> Outcome {
        let mut failure = Failure::text(what).check(check);
        failure.step = Some((3, step.to_string()));
        Outcome::Failed { failure }
    }

    #[test]
    fn one_rule_is_one_cause_whatever_the_numbers() {
        let a = failed("size-header", "a0's header is 32", "a0 = malloc(17)");
        let b = failed("size-header", "before free(a2): 48", "free(a2)");
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&failed("aligned", "x", "a0 = malloc(1)")));
    }

    #[test]
    fn a_failure_without_a_rule_is_known_by_its_words() {
        let a = failed("", "malloc(100) right after free(a0) did not reuse", "x");
        let b = failed("", "malloc(200) right after free(a7) did not reuse", "y");
        let c = failed("", "the list is not in order", "y");
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
        assert_eq!(
            blank_numbers("a12 at 0x2000 is 16-byte aligned; data"),
            "# at # is #-byte aligned; data"
        );
    }

    #[test]
    fn crashes_are_one_cause_per_signal_and_call() {
        let crash = |signal: &str, op: &str| {
            let mut failure = Failure::text("stopped").check("crash");
            failure.step = Some((2, op.to_string()));
            Outcome::Crashed {
                signal: signal.into(),
                cause: None,
                failure,
            }
        };
        assert_eq!(
            key(&crash("SIGSEGV", "free(a1)")),
            key(&crash("SIGSEGV", "free(a7)"))
        );
        assert_ne!(
            key(&crash("SIGSEGV", "free(a1)")),
            key(&crash("SIGSEGV", "a2 = malloc(8)"))
        );
        assert_eq!(
            key(&crash("SIGSEGV", "a2 = malloc(8)")).unwrap(),
            "crashed: crash SIGSEGV in malloc"
        );
    }
}
