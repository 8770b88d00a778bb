//! A page source threads can share: real `mmap`/`munmap`, with the live
//! mappings recorded behind a mutex (the grader's [`InstrumentedPages`]
//! keeps its record in an `Rc`, so it cannot move between threads).
//!
//! [`InstrumentedPages`]: crate::alloc::InstrumentedPages

use std::collections::BTreeMap;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use heaplab_kit::PageSource;

/// What the test reads of a [`SyncPages`]: live mappings, contract breaches.
#[derive(Default)]
pub struct SyncRecord {
    /// Live mappings: address → length.
    pub live: BTreeMap<usize, usize>,
    /// Unmaps that were not exactly one live mapping (not passed to the OS).
    pub violations: Vec<String>,
    /// Successful maps, ever.
    pub maps: usize,
}

/// Real pages for a heap shared between threads; clones share one record.
#[derive(Clone)]
pub struct SyncPages {
    record: Arc<Mutex<SyncRecord>>,
    /// While set, every map is refused (the OS "runs out").
    refuse: Arc<AtomicBool>,
    page_bytes: usize,
}

impl Default for SyncPages {
    fn default() -> Self {
        Self::new()
    }
}

impl SyncPages {
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a system constant.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        SyncPages {
            record: Arc::default(),
            refuse: Arc::default(),
            page_bytes: usize::try_from(page).unwrap_or(4096),
        }
    }

    /// The shared record.
    pub fn record(&self) -> MutexGuard<'_, SyncRecord> {
        self.record.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refuse every map from now on (`true`) or not.
    pub fn refuse_maps(&self, on: bool) {
        self.refuse.store(on, Ordering::SeqCst);
    }

    /// True when `[addr, addr + len)` lies inside one live mapping.
    pub fn holds(&self, addr: usize, len: usize) -> bool {
        let record = self.record();
        record
            .live
            .range(..=addr)
            .next_back()
            .is_some_and(|(&start, &size)| addr + len <= start + size)
    }
}

impl PageSource for SyncPages {
    fn page_size(&self) -> usize {
        self.page_bytes
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        if self.refuse.load(Ordering::SeqCst) || len == 0 || !len.is_multiple_of(self.page_bytes) {
            return None;
        }
        // SAFETY: a new anonymous mapping touches no existing memory.
        let addr = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return None;
        }
        let mut record = self.record();
        record.live.insert(addr as usize, len);
        record.maps += 1;
        NonNull::new(addr.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        let addr = ptr.as_ptr() as usize;
        let mut record = self.record();
        if record.live.get(&addr) != Some(&len) {
            record.violations.push(format!(
                "unmap({addr:#x}, {len}) is not exactly one live mapping"
            ));
            return;
        }
        record.live.remove(&addr);
        // SAFETY: exactly one of our live mappings, which the heap gives up.
        unsafe { libc::munmap(ptr.as_ptr().cast(), len) };
    }
}
