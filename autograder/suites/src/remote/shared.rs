//! The student's heap behind its lock, in the student's process (lesson 7
//! on): the threads workload runs there, `GlobalAlloc` calls are requests,
//! and its pages are the checker's, so the checker reads what the threads
//! left directly.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::RefCell;
use std::time::Duration;

use heaplab_kit::{Block, PageSource, Stats};
use heaplab_protocol::messages::ThreadsReport;
use heaplab_protocol::{Failure, PageAnswer, PageRequest, Reply, Request};

use super::{unexpected, with_subject, StudentStopped};
use crate::alloc::{InstrumentedPages, PageLog};
use crate::lesson7::SharedApi;

/// How long the threads' work may take, all of it (each thread's calls
/// through the student's lock, on a machine that may be busy).
const THREADS_LIMIT: Duration = Duration::from_secs(10);

/// The student's shared heap in a case process of its own, over the
/// checker's pages.
pub struct RemoteShared {
    pages: RefCell<InstrumentedPages>,
    log: PageLog,
}

/// Makes the student's shared heap in the student's process (lesson 7's
/// suite's `shared` in the checker).
pub fn shared() -> RemoteShared {
    let pages = InstrumentedPages::new();
    let log = pages.log();
    let heap = RemoteShared {
        pages: RefCell::new(pages),
        log,
    };
    if let Err(stop) = with_subject(|s| s.start_case()) {
        std::panic::panic_any(StudentStopped {
            stop,
            during: "starting a process for the shared heap".into(),
        });
    }
    if let Err(f) = heap.call(Request::SharedNew, "making the heap behind its lock") {
        panic!("{f}");
    }
    heap
}

impl RemoteShared {
    fn call(&self, request: Request, during: &str) -> Result<Reply, Failure> {
        self.call_within(Duration::ZERO, request, during)
    }

    /// [`call`](Self::call) for a request that may take up to `limit` (at
    /// least one operation's time).
    fn call_within(
        &self,
        limit: Duration,
        request: Request,
        during: &str,
    ) -> Result<Reply, Failure> {
        let mut pages = self.pages.borrow_mut();
        let answered =
            with_subject(|s| s.call_within(limit, request, &mut |r| answer(&mut pages, r)));
        match answered {
            Ok(reply @ (Reply::Panicked { .. } | Reply::Unsupported { .. } | Reply::Error(_))) => {
                Err(unexpected(reply, during))
            }
            Ok(reply) => Ok(reply),
            Err(stop) => Err(StudentStopped {
                stop,
                during: during.to_string(),
            }
            .failure()),
        }
    }

    /// A `GlobalAlloc` call: its block, or null. A stop of the student's
    /// process panics (a `GlobalAlloc` has no way to say so).
    fn block(&self, request: Request, during: &str) -> *mut u8 {
        match self.call(request, during) {
            Ok(Reply::Block(Some(addr))) => std::ptr::with_exposed_provenance_mut(addr as usize),
            Ok(Reply::Block(None)) => std::ptr::null_mut(),
            Ok(other) => panic!("{}", unexpected(other, during)),
            Err(failure) => panic!("{failure}"),
        }
    }
}

/// The checker's answer to the student's page source.
fn answer(pages: &mut InstrumentedPages, request: PageRequest) -> PageAnswer {
    match request {
        PageRequest::Map { len } => match usize::try_from(len).ok().and_then(|n| pages.map(n)) {
            Some(p) => PageAnswer::Mapped {
                addr: p.as_ptr() as usize as u64,
            },
            None => PageAnswer::Refused,
        },
        PageRequest::Unmap { addr, len } => {
            let before = pages.log().violations().len();
            let ptr = std::ptr::NonNull::new(std::ptr::with_exposed_provenance_mut(addr as usize));
            if let (Some(p), Ok(len)) = (ptr, usize::try_from(len)) {
                // SAFETY: an unmap that is not exactly one run is recorded and
                // left alone; a run the heap gives back is the heap's to give.
                unsafe { pages.unmap(p, len) };
            }
            if pages.log().violations().len() > before {
                PageAnswer::Ignore
            } else {
                PageAnswer::Unmap
            }
        }
        PageRequest::MapFailed { .. } => PageAnswer::Refused,
    }
}

impl SharedApi for RemoteShared {
    fn run(&self, seed: u64, threads: u32, rounds: u32) -> Result<ThreadsReport, Failure> {
        let request = Request::Threads {
            seed,
            threads,
            rounds,
        };
        // Thousands of calls in one request: one call's limit would stop a
        // correct heap on a busy machine; a lock that never opens still
        // shows as a hang.
        match self.call_within(THREADS_LIMIT, request, "the threads' work")? {
            Reply::Threads(report) => Ok(report),
            other => Err(unexpected(other, "the threads' work")),
        }
    }

    fn free_all(&self) -> Result<(), Failure> {
        self.call(Request::SharedFreeAll, "freeing what the threads left")
            .map(|_| ())
    }

    fn snapshot(&self) -> Result<(Stats, Vec<Block>), Failure> {
        let during = "stats() and free_blocks()";
        let Reply::Snapshot(view) = self.call(Request::SharedSnapshot, during)? else {
            return Err(Failure::text(format!("{during}: an odd reply")));
        };
        let [pages_mapped, pages_unmapped, chunks_allocated, chunks_freed, free_length] =
            view.stats.unwrap_or_default().map(|n| n as usize);
        let stats = Stats {
            pages_mapped,
            pages_unmapped,
            chunks_allocated,
            chunks_freed,
            free_length,
        };
        let blocks = view
            .free_blocks
            .unwrap_or_default()
            .iter()
            .map(|b| Block {
                addr: b.addr as usize,
                size: b.size as usize,
            })
            .collect();
        Ok((stats, blocks))
    }

    fn live_mappings(&self) -> Vec<(usize, usize)> {
        self.log
            .mappings()
            .iter()
            .map(|m| (m.addr, m.len))
            .collect()
    }

    fn violations(&self) -> Vec<String> {
        self.log.violations()
    }

    fn refuse_maps(&self, on: bool) {
        self.log.refuse_all_maps(on);
    }

    fn global(&self) -> &dyn GlobalAlloc {
        self
    }
}

// SAFETY: every call is forwarded to the student's heap in its own process,
// whose answers (a block of the layout, or null) are passed on as they are:
// the tests check them, which is the point.
unsafe impl GlobalAlloc for RemoteShared {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let request = Request::SharedAlloc {
            size: layout.size() as u64,
            align: layout.align() as u64,
            zeroed: false,
        };
        self.block(request, "GlobalAlloc::alloc")
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let request = Request::SharedAlloc {
            size: layout.size() as u64,
            align: layout.align() as u64,
            zeroed: true,
        };
        self.block(request, "GlobalAlloc::alloc_zeroed")
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let request = Request::SharedDealloc {
            addr: ptr as usize as u64,
            size: layout.size() as u64,
            align: layout.align() as u64,
        };
        if let Err(f) = self.call(request, "GlobalAlloc::dealloc") {
            panic!("{f}");
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let request = Request::SharedRealloc {
            addr: ptr as usize as u64,
            size: layout.size() as u64,
            align: layout.align() as u64,
            new_size: new_size as u64,
        };
        self.block(request, "GlobalAlloc::realloc")
    }
}

impl Drop for RemoteShared {
    fn drop(&mut self) {
        let _ = with_subject(|s| s.end_case());
    }
}
