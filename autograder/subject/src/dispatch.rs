//! One request, done with the student's code: which part of the subject
//! serves it, with every panic caught and replied.

use std::alloc::Layout;

use heaplab_protocol::{Reply, Request};

use crate::array::Arrays;
use crate::heaps::HeapState;
use crate::own_pages::OwnPages;
use crate::pages::GraderPages;
use crate::panics;
use crate::serve::Serve;
use crate::threads::SharedOps;

/// What one case has made so far.
#[derive(Default)]
pub struct State {
    heap: Option<HeapState>,
    own_pages: OwnPages,
    arrays: Arrays,
    shared: Option<Box<dyn SharedOps>>,
}

fn missing(what: &str) -> Reply {
    Reply::Unsupported {
        what: format!("{what}: this lesson's subject does not have it"),
    }
}

/// Does `request` and says how it went.
pub fn handle(serve: &Serve, state: &mut State, request: Request) -> Reply {
    panics::catch(|| match request {
        Request::NewHeap => new_heap(serve, state),
        Request::DropHeap => {
            state.heap = None;
            Reply::Done
        }
        Request::PagesNew => match &serve.own_pages {
            Some(make) => state.own_pages.make(make.as_ref()),
            None => missing("the student's own page source"),
        },
        Request::PagesPageSize => state.own_pages.page_size(),
        Request::PagesMap { len } => state.own_pages.map(len),
        Request::PagesUnmap { addr, len } => state.own_pages.unmap(addr, len),
        Request::Call { name } => match serve.calls.iter().find(|(n, _)| *n == name) {
            Some((_, f)) => Reply::Value(f()),
            None => missing(&format!("the function {name}")),
        },
        Request::StartCase | Request::EndCase => {
            Reply::Error("a case cannot start or end a case".into())
        }
        other if is_array(&other) => array(serve, state, other),
        other if is_shared(&other) => shared(serve, state, other),
        other => heap(state, other),
    })
}

fn new_heap(serve: &Serve, state: &mut State) -> Reply {
    let Some(make) = &serve.heap else {
        return missing("a heap");
    };
    // The old heap goes first, so its pages are back before the new one maps.
    state.heap = None;
    state.heap = Some(HeapState::new(make(GraderPages::new())));
    Reply::Done
}

/// Whether `request` asks for the heap's view after it.
pub fn wants_view(request: &Request) -> bool {
    matches!(
        request,
        Request::Malloc { view: true, .. }
            | Request::Free { view: true, .. }
            | Request::Realloc { view: true, .. }
            | Request::Calloc { view: true, .. }
            | Request::MallocAligned { view: true, .. }
    )
}

/// The heap's whole view, for a request that asked for it.
pub fn view(state: &State) -> Reply {
    match &state.heap {
        Some(heap) => panics::catch(|| heap.snapshot(true, true, true)),
        None => Reply::Error("no heap made yet".into()),
    }
}

fn heap(state: &mut State, request: Request) -> Reply {
    let Some(heap) = state.heap.as_mut() else {
        return Reply::Error("no heap made yet".into());
    };
    match request {
        Request::Malloc { size, .. } => heap.malloc(size),
        Request::Free { addr, .. } => heap.free(addr),
        Request::Realloc { addr, size, .. } => heap.realloc(addr, size),
        Request::Calloc { count, size, .. } => heap.calloc(count, size),
        Request::MallocAligned { align, size, .. } => heap.malloc_aligned(align, size),
        Request::UsableSize { addr } => heap.usable_size(addr),
        Request::Snapshot {
            stats,
            free_blocks,
            usable,
        } => heap.snapshot(stats, free_blocks, usable),
        other => Reply::Error(format!("unknown request {other:?}")),
    }
}

fn is_array(request: &Request) -> bool {
    matches!(
        request,
        Request::ArrayCreate { .. }
            | Request::ArrayOpen { .. }
            | Request::ArrayRead { .. }
            | Request::ArrayWrite { .. }
            | Request::ArrayDrop { .. }
    )
}

fn array(serve: &Serve, state: &mut State, request: Request) -> Reply {
    let Some(fns) = &serve.array else {
        return missing("lesson 1's array");
    };
    let arrays = &mut state.arrays;
    match request {
        Request::ArrayCreate { path, len } => arrays.create(fns, &path, len),
        Request::ArrayOpen { path } => arrays.open(fns, &path),
        Request::ArrayRead { id } => arrays.read(id),
        Request::ArrayWrite { id, values } => arrays.write(id, &values),
        Request::ArrayDrop { id } => arrays.drop_array(id),
        other => Reply::Error(format!("unknown request {other:?}")),
    }
}

fn is_shared(request: &Request) -> bool {
    matches!(
        request,
        Request::SharedNew
            | Request::Threads { .. }
            | Request::SharedFreeAll
            | Request::SharedSnapshot
            | Request::SharedAlloc { .. }
            | Request::SharedDealloc { .. }
            | Request::SharedRealloc { .. }
    )
}

/// A `Layout` from the checker's numbers; the checker sends only valid ones.
fn layout(size: u64, align: u64) -> Result<Layout, Reply> {
    Layout::from_size_align(size as usize, align as usize)
        .map_err(|e| Reply::Error(format!("no layout of size {size}, align {align}: {e}")))
}

fn shared(serve: &Serve, state: &mut State, request: Request) -> Reply {
    if request == Request::SharedNew {
        let Some(make) = &serve.shared else {
            return missing("a heap behind a lock");
        };
        state.shared = None;
        state.shared = Some(make(GraderPages::new()));
        return Reply::Done;
    }
    let Some(heap) = state.shared.as_mut() else {
        return Reply::Error("no shared heap made yet".into());
    };
    let result = match request {
        Request::Threads {
            seed,
            threads,
            rounds,
        } => Ok(Reply::Threads(heap.threads(seed, threads, rounds))),
        Request::SharedFreeAll => {
            heap.free_all();
            Ok(Reply::Done)
        }
        Request::SharedSnapshot => Ok(Reply::Snapshot(heap.snapshot())),
        Request::SharedAlloc {
            size,
            align,
            zeroed,
        } => layout(size, align).map(|l| Reply::Block(heap.alloc(l, zeroed))),
        Request::SharedDealloc { addr, size, align } => layout(size, align).map(|l| {
            heap.dealloc(addr, l);
            Reply::Done
        }),
        Request::SharedRealloc {
            addr,
            size,
            align,
            new_size,
        } => layout(size, align).map(|l| Reply::Block(heap.realloc(addr, l, new_size as usize))),
        other => Ok(Reply::Error(format!("unknown request {other:?}"))),
    };
    result.unwrap_or_else(|reply| reply)
}
