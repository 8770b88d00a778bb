//! Pages without a checker: anonymous `mmap`s, each recorded, so the
//! `replay` program of `grade bench` can measure a heap's footprint and
//! catch an unmap that matches no map.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

/// The live runs of one page source, and its broken promises.
#[derive(Debug)]
pub struct Record {
    page_bytes: usize,
    /// Address → length.
    live: BTreeMap<usize, usize>,
    misuse: Vec<String>,
}

impl Record {
    pub fn new(page_bytes: usize) -> Record {
        Record {
            page_bytes,
            live: BTreeMap::new(),
            misuse: Vec::new(),
        }
    }
}

fn lock(record: &Mutex<Record>) -> MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(|p| p.into_inner())
}

/// Maps `len` bytes (a non-zero whole number of pages) and records them.
pub fn map(record: &Mutex<Record>, len: usize) -> Option<NonNull<u8>> {
    let mut r = lock(record);
    if len == 0 || !len.is_multiple_of(r.page_bytes) {
        r.misuse
            .push(format!("map({len}): not a whole number of pages"));
        return None;
    }
    // SAFETY: a new anonymous private mapping at an address the kernel
    // picks touches no existing memory.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    r.live.insert(p as usize, len);
    NonNull::new(p.cast())
}

/// Unmaps `[ptr, ptr + len)` if it is exactly one recorded run.
///
/// # Safety
/// Nothing uses the range after this call.
pub unsafe fn unmap(record: &Mutex<Record>, ptr: NonNull<u8>, len: usize) {
    let mut r = lock(record);
    let addr = ptr.as_ptr() as usize;
    if r.live.get(&addr) == Some(&len) {
        r.live.remove(&addr);
        // SAFETY: exactly one live run of this record; the caller promises
        // nothing uses it any more.
        unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
    } else {
        r.misuse.push(format!(
            "unmap({addr:#x}, {len}): not exactly one earlier map"
        ));
    }
}

/// The replayer's view of a record (none when a checker keeps it).
#[derive(Clone, Debug)]
pub struct Footprint(pub Option<Arc<Mutex<Record>>>);

impl heaplab_traces::footprint::Footprint for Footprint {
    fn mapped_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |r| lock(r).live.values().sum())
    }

    fn is_mapped(&self, addr: usize, len: usize) -> bool {
        self.0.as_ref().is_some_and(|r| {
            let r = lock(r);
            r.live
                .range(..=addr)
                .next_back()
                .is_some_and(|(&start, &size)| addr.saturating_add(len) <= start + size)
        })
    }

    fn misuse(&self) -> Option<String> {
        self.0
            .as_ref()
            .and_then(|r| lock(r).misuse.first().cloned())
    }
}
