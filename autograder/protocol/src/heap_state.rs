//! The heap as the checker saw it after each operation of a failing
//! sequence: the runs of pages, the live chunks, the free list in list
//! order. The checker records it only when a test fails (it replays the
//! shortest failing sequence once more to do so); the HTML report draws one
//! picture per step from it.
//!
//! ```text
//!   run ─┬────────┬──────────────────┬────────┬──────────────┬─ ─ ─ ┐
//!        │ header │ payload (a0)     │ header │ free chunk #1 │ ...  │
//!        └────────┴──────────────────┴────────┴──────────────┴─ ─ ─ ┘
//!        addr     addr + header       a live chunk is `size` bytes, header included
//! ```
//!
//! Addresses and sizes are bytes, as `u64` (the same in every process).

use serde::{Deserialize, Serialize};

/// The heap after one operation of the failing sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapStep {
    /// Operations done so far: 0 when the heap was just made, `n` after the
    /// failure's `operations[n - 1]` (counted before runs were collapsed).
    pub step: usize,
    /// The operation just done (`a2 = malloc(40)`); empty at step 0.
    pub operation: String,
    pub heap: HeapState,
}

/// What the heap held at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapState {
    /// Bytes of header in front of every payload (0 before lesson 3).
    pub header: u64,
    /// The runs of pages the heap has mapped, by address.
    pub runs: Vec<Run>,
    /// The chunks of live blocks, by address.
    pub live: Vec<LiveChunk>,
    /// The free chunks in the order the list links them (`free[0]` is the
    /// head). Empty for a heap without a free list.
    pub free: Vec<FreeChunk>,
    /// How the list ended.
    pub list_end: ListEnd,
    /// Addresses of what broke, to outline: only in the step that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub focus: Vec<u64>,
    /// Chunks left out because there were too many to draw.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_out: usize,
}

/// A run of pages from one `map` call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// 1 for the heap's first mapping, 2 for the next, ...
    pub serial: usize,
    pub addr: u64,
    /// Bytes (whole pages).
    pub len: u64,
}

impl Run {
    pub fn end(&self) -> u64 {
        self.addr.saturating_add(self.len)
    }
}

/// The chunk of a block the test holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveChunk {
    /// The block's name in the operations (`a3`).
    pub name: String,
    /// The chunk's first byte: the pointer `malloc` returned minus the header.
    pub addr: u64,
    /// Bytes of the whole chunk, header included.
    pub size: u64,
    /// Bytes the test asked `malloc` for.
    pub requested: u64,
}

/// A chunk on the free list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeChunk {
    pub addr: u64,
    /// Bytes of the whole chunk, header included.
    pub size: u64,
}

/// How a walk of the free list ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "end", rename_all = "snake_case")]
pub enum ListEnd {
    /// At a null link (or the heap has no list).
    #[default]
    Null,
    /// The last chunk's link leads back to `free[to]`: the list is a cycle.
    Cycle { to: usize },
    /// The last chunk's link leads to `addr`, outside the mapped pages.
    Outside { addr: u64 },
    /// The walk gave up: the list is longer than the checker walks.
    TooLong,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl HeapState {
    /// True when the state holds nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.live.is_empty() && self.free.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_travels_as_json() {
        let state = HeapState {
            header: 16,
            runs: vec![Run {
                serial: 1,
                addr: 0x1000,
                len: 4096,
            }],
            live: vec![LiveChunk {
                name: "a0".into(),
                addr: 0x1000,
                size: 48,
                requested: 24,
            }],
            free: vec![FreeChunk {
                addr: 0x1030,
                size: 4048,
            }],
            list_end: ListEnd::Cycle { to: 0 },
            focus: Vec::new(),
            left_out: 0,
        };
        let json = serde_json::to_string(&state).unwrap();
        assert!(
            json.contains(r#""list_end":{"end":"cycle","to":0}"#),
            "{json}"
        );
        assert!(
            !json.contains("focus") && !json.contains("left_out"),
            "{json}"
        );
        let back: HeapState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
    }
}
