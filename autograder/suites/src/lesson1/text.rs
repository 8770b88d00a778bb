//! How lesson 1's messages show arrays, files and programs.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The elements of a file's bytes, 4 little-endian bytes each; a partial
/// element at the end is left out.
pub fn decode(bytes: &[u8]) -> Vec<i32> {
    bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

pub fn encode(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Expected against found elements: the first difference, and the lengths
/// when they differ.
pub fn compare_elements(expected: &[i32], found: &[i32]) -> String {
    let mut lines = Vec::new();
    if expected.len() != found.len() {
        lines.push(format!(
            "expected {} elements, found {}",
            expected.len(),
            found.len()
        ));
    }
    if let Some(i) = (0..expected.len().min(found.len())).find(|&i| expected[i] != found[i]) {
        let differ = (i..expected.len().min(found.len()))
            .filter(|&j| expected[j] != found[j])
            .count();
        lines.push(format!(
            "element {i}: expected {}, found {} ({differ} element(s) differ)",
            expected[i], found[i]
        ));
    }
    lines.push(format!("expected: {}", preview(expected)));
    lines.push(format!("found:    {}", preview(found)));
    lines.join("\n")
}

/// The first elements of an array, enough to recognise it.
pub fn preview(values: &[i32]) -> String {
    const SHOWN: usize = 12;
    if values.len() <= SHOWN {
        format!("{values:?}")
    } else {
        let head: Vec<String> = values[..SHOWN].iter().map(i32::to_string).collect();
        format!("[{}, ... ({} more)]", head.join(", "), values.len() - SHOWN)
    }
}

/// `text` indented for a message, at most 24 lines of it.
pub fn indent(text: &str) -> String {
    const SHOWN: usize = 24;
    if text.trim().is_empty() {
        return "    (nothing)\n".to_string();
    }
    let mut out: String = text
        .lines()
        .take(SHOWN)
        .map(|l| format!("    {l}\n"))
        .collect();
    let more = text.lines().count().saturating_sub(SHOWN);
    if more > 0 {
        out.push_str(&format!("    ... ({more} more lines)\n"));
    }
    out
}

/// How a program ended, in words: a signal by name.
pub fn describe(status: ExitStatus, timeout_secs: u64) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(libc::SIGBUS) => {
            "was killed by SIGBUS: it touched a mapped page past the end of the file \
             (was the file made big enough with ftruncate?)"
                .to_string()
        }
        Some(libc::SIGSEGV) => "was killed by SIGSEGV: a bad memory access".to_string(),
        Some(libc::SIGABRT) => "was killed by SIGABRT (abort)".to_string(),
        Some(libc::SIGKILL) => {
            format!("was killed by SIGKILL (still running after {timeout_secs} s?)")
        }
        Some(signal) => format!("was killed by signal {signal}"),
        None => format!("ended ({status})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hold_little_endian_elements() {
        assert_eq!(encode(&[1, -1]), [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(decode(&encode(&[0, 1, 4, 9])), [0, 1, 4, 9]);
    }
}
