//! The student's heap as the checker sees it: every call a request to the
//! student's process, every page it maps one of the checker's own.
//!
//! After each operation that can change the heap, the remote heap asks for
//! the heap's own view ([`Snapshot`]: `stats()`, `free_blocks()`, and the
//! usable size of every live block) in one request, so the checks that
//! follow read it here without a round trip each. A heap whose view grows
//! large (a trace replay holds thousands of blocks) is asked only for the
//! parts the checks read, when they read them.

use std::cell::RefCell;
use std::ptr::NonNull;

use heaplab_kit::{Block, FullHeap, Heap, PageSource, Realloc, Stats};
use heaplab_protocol::{Failure, PageAnswer, PageRequest, Reply, Request, Snapshot};

use super::subject::Stop;
use super::with_subject;
use crate::alloc::InstrumentedPages;
use crate::harness::note_todo;

/// The student's process stopped while the checker waited for `during`:
/// the panic payload a session turns into a diagnosis.
#[derive(Clone, Debug)]
pub struct StudentStopped {
    pub stop: Stop,
    pub during: String,
}

impl StudentStopped {
    /// The stop as a failure in words, without the operations that led to
    /// it (a session adds those, and the picture).
    pub fn failure(&self) -> Failure {
        let mut failure = Failure::text(format!(
            "the student's process {} during {}",
            self.stop.stopped.describe(),
            self.during
        ));
        failure.check = self.stop.stopped.check().to_string();
        failure.stopped = Some(self.stop.stopped.clone());
        if !self.stop.stderr.trim().is_empty() {
            failure.notes.push(format!(
                "\nits last lines on stderr:\n{}",
                indent(&self.stop.stderr)
            ));
        }
        failure
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {}", heaplab_protocol::stderr::without_thread_ids(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A heap that lives in the student's process, over the checker's pages.
pub struct RemoteHeap {
    inner: RefCell<Inner>,
}

struct Inner {
    pages: InstrumentedPages,
    /// The heap's view since the last operation, as far as asked for.
    view: Snapshot,
    /// `usable_size` asked one block at a time (when not in `view`).
    usable: std::collections::BTreeMap<u64, Option<u64>>,
    /// Ask for the whole view after every operation (while it is small).
    eager: bool,
    /// False once the case process is gone (ended, crashed or hung).
    alive: bool,
}

/// Entries (free chunks and live blocks) in a view above which the remote
/// heap stops asking for the whole view after every operation.
const EAGER_ENTRIES: usize = 256;

/// A pointer into the checker's own mapping of the window, from an address
/// the student's process sent: the window's runs are exposed when mapped.
fn pointer(addr: u64) -> Option<NonNull<u8>> {
    NonNull::new(std::ptr::with_exposed_provenance_mut(addr as usize))
}

fn address(ptr: NonNull<u8>) -> u64 {
    ptr.as_ptr() as usize as u64
}

impl RemoteHeap {
    /// Starts a case in the student's process and makes its heap over `pages`.
    pub fn new(pages: InstrumentedPages) -> RemoteHeap {
        let heap = RemoteHeap {
            inner: RefCell::new(Inner {
                pages,
                view: Snapshot::default(),
                usable: Default::default(),
                eager: true,
                alive: false,
            }),
        };
        if let Err(stop) = with_subject(|s| s.start_case()) {
            std::panic::panic_any(StudentStopped {
                stop,
                during: "starting a new process for the case".into(),
            });
        }
        heap.inner.borrow_mut().alive = true;
        heap.call(Request::NewHeap, "new (making the heap)");
        let view = heap.ask(true, true, true, "stats() of the new heap");
        heap.keep_view(Some(view));
        heap
    }

    /// Sends `request`; a stop or a panic of the student's code panics here,
    /// with the stop as payload or the panic's message.
    fn call(&self, request: Request, during: &str) -> Reply {
        self.exchange(request, during, false).0
    }

    /// Sends `request` and reads its reply and, with `view`, the heap's
    /// view the subject sends after it.
    fn exchange(&self, request: Request, during: &str, view: bool) -> (Reply, Option<Snapshot>) {
        let result = {
            let mut inner = self.inner.borrow_mut();
            if !inner.alive {
                return (Reply::Error("the student's process is gone".into()), None);
            }
            let pages = &mut inner.pages;
            let result = with_subject(|s| {
                let reply = s.call(request, &mut |r| answer(pages, r))?;
                let failed = matches!(reply, Reply::Panicked { .. } | Reply::Error(_));
                let second = match view && !failed {
                    false => Second::None,
                    true => match s.next_reply(&mut |r| answer(pages, r)) {
                        Ok(Reply::Snapshot(v)) => Second::View(v),
                        Ok(other) => Second::Odd(other),
                        Err(stop) => Second::Stopped(stop),
                    },
                };
                Ok((reply, second))
            });
            inner.alive = matches!(
                result,
                Ok((_, Second::None | Second::View(_) | Second::Odd(_)))
            );
            result
        };
        let (reply, second) = result.unwrap_or_else(|stop| {
            std::panic::panic_any(StudentStopped {
                stop,
                during: during.to_string(),
            })
        });
        let view = match second {
            Second::None => None,
            Second::View(v) => Some(v),
            Second::Odd(other) => Some(self.refused(other, AFTER)),
            Second::Stopped(stop) => std::panic::panic_any(StudentStopped {
                stop,
                during: AFTER.to_string(),
            }),
        };
        (self.refused_or(reply), view)
    }

    /// The reply, unless it is a panic of the student's code or a part the
    /// subject does not have: then this panics with its message.
    fn refused_or(&self, reply: Reply) -> Reply {
        match reply {
            Reply::Panicked { .. } | Reply::Unsupported { .. } => {
                self.refused(reply, "");
                unreachable!("refused panics")
            }
            other => other,
        }
    }

    /// Panics with what a refusing reply says (noting a `todo!()`).
    fn refused(&self, reply: Reply, during: &str) -> Snapshot {
        match reply {
            Reply::Panicked {
                message,
                location,
                todo,
            } => {
                if todo {
                    note_todo(location.clone());
                }
                let during = if during.is_empty() {
                    String::new()
                } else {
                    format!(" ({during})")
                };
                panic!("panicked at {location}: {message}{during}")
            }
            Reply::Unsupported { what } => panic!("{what}"),
            other => panic!("an odd reply from the student's process: {other:?}"),
        }
    }

    /// An operation that changes the heap: sent with a request for the
    /// heap's view after it while views are small, which is kept;
    /// otherwise the old view is forgotten and parts are asked for later.
    fn change(&self, request: impl FnOnce(bool) -> Request, during: &str) -> Reply {
        let eager = self.inner.borrow().eager;
        let (reply, view) = self.exchange(request(eager), during, eager);
        self.keep_view(view);
        reply
    }

    /// Keeps `view` (or forgets the old one), and goes lazy when it is large.
    fn keep_view(&self, view: Option<Snapshot>) {
        let mut inner = self.inner.borrow_mut();
        inner.usable.clear();
        match view {
            Some(view) => {
                let entries = view.free_blocks.as_ref().map_or(0, Vec::len)
                    + view.usable.as_ref().map_or(0, Vec::len);
                inner.eager = entries <= EAGER_ENTRIES;
                inner.view = view;
            }
            None => inner.view = Snapshot::default(),
        }
    }

    /// Asks for parts of the heap's view.
    fn ask(&self, stats: bool, free_blocks: bool, usable: bool, during: &str) -> Snapshot {
        let request = Request::Snapshot {
            stats,
            free_blocks,
            usable,
        };
        match self.call(request, during) {
            Reply::Snapshot(view) => view,
            _ => Snapshot::default(),
        }
    }

    /// A request that answers a block (`malloc`, `realloc`…).
    fn block(&self, request: impl FnOnce(bool) -> Request, during: &str) -> Option<NonNull<u8>> {
        match self.change(request, during) {
            Reply::HeapBlock {
                addr: Some(addr),
                usable,
            } => {
                self.inner.borrow_mut().usable.insert(addr, usable);
                pointer(addr)
            }
            Reply::HeapBlock { addr: None, .. } => None,
            other => panic!("{during} got an odd reply from the student's process: {other:?}"),
        }
    }
}

/// The second reply of an operation that asked for the heap's view.
enum Second {
    /// Not asked for (or the operation failed).
    None,
    View(Snapshot),
    /// Something else: a panic in `free_blocks()`, say.
    Odd(Reply),
    /// The student's process stopped while making it.
    Stopped(Stop),
}

/// What the second reply of an operation is about.
const AFTER: &str = "stats(), free_blocks() and usable_size() after it";

/// The checker's answer to the student's page source.
fn answer(pages: &mut InstrumentedPages, request: PageRequest) -> PageAnswer {
    match request {
        PageRequest::Map { len } => match usize::try_from(len).ok().and_then(|n| pages.map(n)) {
            Some(p) => PageAnswer::Mapped { addr: address(p) },
            None => PageAnswer::Refused,
        },
        PageRequest::Unmap { addr, len } => {
            let log = pages.log();
            let before = log.violations().len();
            if let (Some(p), Ok(len)) = (pointer(addr), usize::try_from(len)) {
                // SAFETY: the page source records an unmap that is not exactly
                // one of its runs as a violation and leaves it alone; a run
                // the heap gives back is the heap's to give.
                unsafe { pages.unmap(p, len) };
            }
            if log.violations().len() > before {
                PageAnswer::Ignore
            } else {
                PageAnswer::Unmap
            }
        }
        PageRequest::MapFailed { addr, errno } => {
            let log = pages.log();
            log.note_violation(format!(
                "the student's process could not map the grader's pages at {addr:#x} \
                 (errno {errno}): something of its own is mapped there"
            ));
            if let (Some(m), Some(p)) = (log.mapping_holding(addr as usize, 1), pointer(addr)) {
                // SAFETY: the run the checker just mapped for this request;
                // the heap never got it.
                unsafe { pages.unmap(p, m.len) };
            }
            PageAnswer::Refused
        }
    }
}

impl Heap for RemoteHeap {
    fn malloc(&mut self, size: usize) -> Option<NonNull<u8>> {
        let size = size as u64;
        self.block(|view| Request::Malloc { size, view }, "this malloc")
    }

    unsafe fn free(&mut self, ptr: NonNull<u8>) {
        let addr = address(ptr);
        self.change(|view| Request::Free { addr, view }, "this free");
    }

    unsafe fn usable_size(&self, ptr: NonNull<u8>) -> Option<usize> {
        let addr = address(ptr);
        let known = {
            let inner = self.inner.borrow();
            let in_view = inner
                .view
                .usable
                .as_ref()
                .and_then(|all| all.iter().find(|(a, _)| *a == addr).map(|(_, u)| *u));
            in_view.or_else(|| inner.usable.get(&addr).copied())
        };
        let usable = match known {
            Some(u) => u,
            None => {
                let u = match self.call(Request::UsableSize { addr }, "usable_size()") {
                    Reply::Usable(u) => u,
                    _ => None,
                };
                self.inner.borrow_mut().usable.insert(addr, u);
                u
            }
        };
        usable.and_then(|u| usize::try_from(u).ok())
    }

    fn stats(&self) -> Stats {
        let known = self.inner.borrow().view.stats;
        let stats = known.unwrap_or_else(|| {
            let stats = self.ask(true, false, false, "stats()").stats;
            self.inner.borrow_mut().view.stats = stats;
            stats.unwrap_or_default()
        });
        let [pages_mapped, pages_unmapped, chunks_allocated, chunks_freed, free_length] =
            stats.map(|n| n as usize);
        Stats {
            pages_mapped,
            pages_unmapped,
            chunks_allocated,
            chunks_freed,
            free_length,
        }
    }

    fn free_blocks(&self) -> Vec<Block> {
        let known = self.inner.borrow().view.free_blocks.clone();
        let blocks = known.unwrap_or_else(|| {
            let blocks = self.ask(false, true, false, "free_blocks()").free_blocks;
            self.inner.borrow_mut().view.free_blocks = blocks.clone();
            blocks.unwrap_or_default()
        });
        blocks
            .iter()
            .map(|b| Block {
                addr: b.addr as usize,
                size: b.size as usize,
            })
            .collect()
    }
}

impl Realloc for RemoteHeap {
    unsafe fn realloc(&mut self, ptr: NonNull<u8>, size: usize) -> Option<NonNull<u8>> {
        let (addr, size) = (address(ptr), size as u64);
        self.block(|view| Request::Realloc { addr, size, view }, "this realloc")
    }
}

impl FullHeap for RemoteHeap {
    fn calloc(&mut self, n: usize, size: usize) -> Option<NonNull<u8>> {
        let (count, size) = (n as u64, size as u64);
        self.block(|view| Request::Calloc { count, size, view }, "this calloc")
    }

    fn malloc_aligned(&mut self, align: usize, size: usize) -> Option<NonNull<u8>> {
        let (align, size) = (align as u64, size as u64);
        self.block(
            |view| Request::MallocAligned { align, size, view },
            "this aligned malloc",
        )
    }
}

impl Drop for RemoteHeap {
    fn drop(&mut self) {
        if !self.inner.get_mut().alive {
            return;
        }
        let pages = &mut self.inner.get_mut().pages;
        let dropped = with_subject(|s| {
            s.call(Request::DropHeap, &mut |r| answer(pages, r))?;
            s.end_case()
        });
        self.inner.get_mut().alive = false;
        if let Err(stop) = dropped {
            if !std::thread::panicking() {
                std::panic::panic_any(StudentStopped {
                    stop,
                    during: "dropping the heap (its Drop)".into(),
                });
            }
        }
    }
}
