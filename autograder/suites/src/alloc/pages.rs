//! The grader's page source: real pages, every call recorded.
//!
//! The heap under test owns an [`InstrumentedPages`]; the test keeps the
//! [`PageLog`] handle to the same record, so it can compare what the heap says
//! (its stats, its blocks) with what really happened, and tell the source to
//! refuse maps.
//!
//! The pages come from anonymous `mmap` when the heap runs in this process
//! (the kit's own tests, Miri), and from the checker's [`Window`] when it
//! runs in the student's process: then every run is mapped here first and in
//! the student's process at the same address, so this record is the truth
//! about both.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ptr::NonNull;
use std::rc::Rc;

use heaplab_kit::PageSource;

use super::window::{self, Window};

/// One run of pages mapped by a single successful `map` call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    /// First byte of the run (page aligned).
    pub addr: usize,
    /// Bytes in the run (a whole number of pages).
    pub len: usize,
    /// 1 for the first successful `map` of this source, 2 for the next, ...
    pub serial: usize,
}

impl Mapping {
    /// One past the run's last byte.
    pub fn end(&self) -> usize {
        self.addr + self.len
    }

    /// True when `[addr, addr + len)` lies inside this run.
    pub fn holds(&self, addr: usize, len: usize) -> bool {
        addr >= self.addr && addr.checked_add(len).is_some_and(|end| end <= self.end())
    }
}

/// One call the heap made on its page source, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageEvent {
    /// `map(len)` succeeded.
    Mapped(Mapping),
    /// `map(len)` was refused: told to fail, or the OS said no. The heap got `None`.
    Refused { len: usize },
    /// `map(len)` with a length that is not a non-zero whole number of pages.
    BadMap { len: usize },
    /// `unmap` of exactly one earlier mapping.
    Unmapped(Mapping),
    /// `unmap` of a range that is not exactly one live mapping (not unmapped).
    BadUnmap { addr: usize, len: usize },
}

impl fmt::Display for PageEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageEvent::Mapped(m) => write!(f, "map({}) = {:#x} (map #{})", m.len, m.addr, m.serial),
            PageEvent::Refused { len } => write!(f, "map({len}) refused"),
            PageEvent::BadMap { len } => write!(f, "map({len}): not a whole number of pages"),
            PageEvent::Unmapped(m) => {
                write!(f, "unmap({:#x}, {}) (map #{})", m.addr, m.len, m.serial)
            }
            PageEvent::BadUnmap { addr, len } => {
                write!(f, "unmap({addr:#x}, {len}): not exactly one mapping")
            }
        }
    }
}

#[derive(Default)]
struct Record {
    page_size: usize,
    events: Vec<PageEvent>,
    /// Live mappings by address.
    live: BTreeMap<usize, Mapping>,
    /// The pointer `mmap` returned for each live mapping (its provenance,
    /// for `munmap` when the source is dropped).
    bases: BTreeMap<usize, NonNull<u8>>,
    map_calls: usize,
    serial: usize,
    pages_mapped: usize,
    pages_unmapped: usize,
    violations: Vec<String>,
    /// `map` call numbers (1-based, over the source's life) that must fail.
    fail_calls: BTreeSet<usize>,
    /// Refuse every `map` longer than this many bytes.
    refuse_over: Option<usize>,
    /// Refuse every `map`.
    refuse_all: bool,
}

/// The test's handle on an [`InstrumentedPages`]: read the record, steer
/// failures. Cloning it gives another handle on the same record.
#[derive(Clone)]
pub struct PageLog(Rc<RefCell<Record>>);

/// A [`PageSource`] over the real `mmap(MAP_PRIVATE | MAP_ANONYMOUS)` and
/// `munmap` that records every call in its [`PageLog`], checks each unmap
/// against the maps, can be told to refuse maps, and unmaps whatever is still
/// mapped when it is dropped.
pub struct InstrumentedPages {
    log: PageLog,
    /// Where pages come from: the window, or anonymous `mmap` without one.
    window: Option<Rc<Window>>,
}

impl InstrumentedPages {
    /// A fresh source with an empty record; keep [`log`](Self::log) before
    /// handing the source to a heap.
    pub fn new() -> Self {
        // SAFETY: sysconf only reads a system constant.
        let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page_size = usize::try_from(page_size).unwrap_or(4096);
        let record = Record {
            page_size,
            ..Record::default()
        };
        InstrumentedPages {
            log: PageLog(Rc::new(RefCell::new(record))),
            window: window::current(),
        }
    }

    /// A handle on this source's record.
    pub fn log(&self) -> PageLog {
        self.log.clone()
    }
}

impl Default for InstrumentedPages {
    fn default() -> Self {
        Self::new()
    }
}

impl PageSource for InstrumentedPages {
    fn page_size(&self) -> usize {
        self.log.0.borrow().page_size
    }

    fn map(&mut self, len: usize) -> Option<NonNull<u8>> {
        let mut r = self.log.0.borrow_mut();
        r.map_calls += 1;
        if len == 0 || !len.is_multiple_of(r.page_size) {
            r.events.push(PageEvent::BadMap { len });
            let why = format!(
                "map({len}) was called, but a page source maps a non-zero whole number of \
                 pages ({} bytes each): round the length up to a multiple of page_size()",
                r.page_size
            );
            r.violations.push(why);
            return None;
        }
        let call = r.map_calls;
        let told_to_fail = r.fail_calls.remove(&call);
        if told_to_fail || r.refuse_all || r.refuse_over.is_some_and(|max| len > max) {
            r.events.push(PageEvent::Refused { len });
            return None;
        }
        let Some(p) = fresh_pages(self.window.as_deref(), len) else {
            r.events.push(PageEvent::Refused { len });
            return None;
        };
        r.serial += 1;
        let mapping = Mapping {
            addr: p as usize,
            len,
            serial: r.serial,
        };
        r.live.insert(mapping.addr, mapping);
        let base = NonNull::new(p.cast::<u8>())?;
        r.bases.insert(mapping.addr, base);
        r.pages_mapped += len / r.page_size;
        r.events.push(PageEvent::Mapped(mapping));
        NonNull::new(p.cast())
    }

    unsafe fn unmap(&mut self, ptr: NonNull<u8>, len: usize) {
        let mut r = self.log.0.borrow_mut();
        let addr = ptr.as_ptr() as usize;
        match r.live.get(&addr).copied() {
            Some(m) if m.len == len => {
                r.live.remove(&addr);
                r.bases.remove(&addr);
                r.pages_unmapped += len / r.page_size;
                r.events.push(PageEvent::Unmapped(m));
                // SAFETY: [addr, addr+len) is exactly one live mapping of this
                // source, and the caller promises nothing uses it any more.
                unsafe { give_back(self.window.as_deref(), ptr, len) };
            }
            found => {
                r.events.push(PageEvent::BadUnmap { addr, len });
                let why = match found {
                    Some(m) => format!(
                        "unmap({addr:#x}, {len}) was called, but the mapping at {addr:#x} \
                         (map #{}) is {} bytes long: unmap exactly what one map returned",
                        m.serial, m.len
                    ),
                    None => format!(
                        "unmap({addr:#x}, {len}) was called, but no map returned {addr:#x} \
                         (or it was unmapped already): unmap exactly what one map returned"
                    ),
                };
                r.violations.push(why);
            }
        }
    }
}

/// `len` bytes of fresh, zero-filled pages: a run of the window, or an
/// anonymous private mapping at an address the kernel picks.
fn fresh_pages(window: Option<&Window>, len: usize) -> Option<*mut u8> {
    if let Some(window) = window {
        return window.map(len);
    }
    // SAFETY: an anonymous private mapping at an address the kernel picks
    // touches no existing memory; failure is reported as MAP_FAILED.
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
    (p != libc::MAP_FAILED).then_some(p.cast())
}

/// Gives back pages [`fresh_pages`] handed out.
///
/// # Safety
/// `[ptr, ptr + len)` is exactly one run `fresh_pages` returned from the same
/// window (or none), not given back yet, and nothing uses it any more.
unsafe fn give_back(window: Option<&Window>, ptr: NonNull<u8>, len: usize) {
    match window {
        Some(window) => window.unmap(ptr.as_ptr() as usize, len),
        // SAFETY: the caller's promise: exactly one live anonymous mapping.
        None => unsafe {
            libc::munmap(ptr.as_ptr().cast(), len);
        },
    }
}

impl Drop for InstrumentedPages {
    fn drop(&mut self) {
        let mut r = self.log.0.borrow_mut();
        let bases = std::mem::take(&mut r.bases);
        for (addr, m) in std::mem::take(&mut r.live) {
            // SAFETY: the heap that owned this source is gone, so nothing uses
            // its pages; each range is exactly one live mapping.
            unsafe { give_back(self.window.as_deref(), bases[&addr], m.len) };
        }
    }
}

impl PageLog {
    /// Bytes in one page.
    pub fn page_size(&self) -> usize {
        self.0.borrow().page_size
    }

    /// Every call so far, in order.
    pub fn events(&self) -> Vec<PageEvent> {
        self.0.borrow().events.clone()
    }

    /// Number of events so far: mark a point, then [`events_since`](Self::events_since).
    pub fn event_count(&self) -> usize {
        self.0.borrow().events.len()
    }

    /// The calls made after the first `n` events.
    pub fn events_since(&self, n: usize) -> Vec<PageEvent> {
        self.0.borrow().events.get(n..).unwrap_or_default().to_vec()
    }

    /// The runs mapped now, by address.
    pub fn mappings(&self) -> Vec<Mapping> {
        self.0.borrow().live.values().copied().collect()
    }

    /// The live mapping that holds all of `[addr, addr + len)`, if one does.
    pub fn mapping_holding(&self, addr: usize, len: usize) -> Option<Mapping> {
        let r = self.0.borrow();
        let (_, m) = r.live.range(..=addr).next_back()?;
        m.holds(addr, len).then_some(*m)
    }

    /// Pages mapped over the source's life (a run of three counts three).
    pub fn pages_mapped(&self) -> usize {
        self.0.borrow().pages_mapped
    }

    /// Pages unmapped over the source's life.
    pub fn pages_unmapped(&self) -> usize {
        self.0.borrow().pages_unmapped
    }

    /// `map` calls so far, refused ones included.
    pub fn map_calls(&self) -> usize {
        self.0.borrow().map_calls
    }

    /// `map` calls refused so far.
    pub fn refusals(&self) -> usize {
        let r = self.0.borrow();
        r.events
            .iter()
            .filter(|e| matches!(e, PageEvent::Refused { .. }))
            .count()
    }

    /// Broken promises of the page-source contract (bad map lengths, unmaps
    /// that match no map), one sentence each.
    pub fn violations(&self) -> Vec<String> {
        self.0.borrow().violations.clone()
    }

    /// Records a broken promise the page source itself cannot see (the
    /// student's process could not map what it was given).
    pub fn note_violation(&self, why: String) {
        self.0.borrow_mut().violations.push(why);
    }

    /// Makes the `n`-th `map` call of the source's life fail (1-based,
    /// counting calls already made).
    pub fn fail_nth_map(&self, n: usize) {
        self.0.borrow_mut().fail_calls.insert(n);
    }

    /// Makes the next `map` call fail.
    pub fn fail_next_map(&self) {
        let next = self.map_calls() + 1;
        self.fail_nth_map(next);
    }

    /// Refuses every `map` of more than `bytes` bytes (`None`: no limit).
    pub fn refuse_maps_over(&self, bytes: Option<usize>) {
        self.0.borrow_mut().refuse_over = bytes;
    }

    /// Refuses every `map` while `on`.
    pub fn refuse_all_maps(&self, on: bool) {
        self.0.borrow_mut().refuse_all = on;
    }

    /// True while a failure set up by [`fail_nth_map`](Self::fail_nth_map)
    /// has not been used yet.
    pub fn failure_pending(&self) -> bool {
        !self.0.borrow().fail_calls.is_empty()
    }
}
