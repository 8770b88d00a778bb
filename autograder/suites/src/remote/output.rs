//! What the student's processes write, kept within bounds: the first bytes,
//! the last bytes, and how much was dropped between, so a flood of output
//! never blocks them and a crash message after it is not lost.

/// Bytes kept from the end of a stream beyond the first `keep`.
const TAIL_BYTES: usize = 8 * 1024;

/// One stream's kept bytes.
#[derive(Debug)]
pub struct Tail {
    keep: usize,
    head: Vec<u8>,
    tail: Vec<u8>,
    total: u64,
}

impl Tail {
    pub fn new(keep: usize) -> Tail {
        Tail {
            keep,
            head: Vec::new(),
            tail: Vec::new(),
            total: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.keep.saturating_sub(self.head.len());
        let take = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > TAIL_BYTES {
            let extra = self.tail.len() - TAIL_BYTES;
            self.tail.drain(..extra);
        }
    }

    /// Bytes written so far, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// What was kept, with a line where bytes were dropped.
    pub fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        let kept = (self.head.len() + self.tail.len()) as u64;
        if self.total > kept {
            s.push_str(&format!(
                "\n[... {} bytes not kept ...]\n",
                self.total - kept
            ));
        }
        s.push_str(&String::from_utf8_lossy(&self.tail));
        s
    }

    /// The last `lines` lines among the bytes written after byte `mark`
    /// (as far as they were kept).
    pub fn lines_since(&self, mark: u64, lines: usize) -> String {
        let text = self.text();
        // Bytes written after the mark are the stream's last `total - mark`.
        let since = usize::try_from(self.total.saturating_sub(mark)).unwrap_or(usize::MAX);
        let start = text.len().saturating_sub(since);
        let start = (start..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        let all: Vec<&str> = text[start..].trim_end().lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_keeps_its_head_and_its_last_words() {
        let mut t = Tail::new(10);
        t.push(b"0123456789abcdef");
        for _ in 0..2000 {
            t.push(b"xxxxxxxx\n");
        }
        t.push(b"the end\n");
        let text = t.text();
        assert!(text.starts_with("0123456789"));
        assert!(text.contains("bytes not kept"));
        assert!(text.ends_with("the end\n"));
        assert_eq!(t.lines_since(t.total() - 8, 5), "the end");
    }
}
