//! What the allocator suites (lessons 2-6) share: the instrumented page
//! source, the model-based engine, the named checks, the heap picture, fault
//! injection and the builders of named tests.
//!
//! Everything is generic over the student's heap `H: heaplab_kit::Heap`,
//! built by `make: Fn(InstrumentedPages) -> H` (the lesson's `X::new`).
//!
//! # Pieces
//!
//! - [`InstrumentedPages`]: a `PageSource` over the real `mmap(MAP_PRIVATE |
//!   MAP_ANONYMOUS)` / `munmap`. The heap owns it; the test keeps its
//!   [`PageLog`] (`pages.log()`, a shared handle) to read every call
//!   ([`PageLog::events`], [`PageLog::mappings`], [`PageLog::pages_mapped`],
//!   [`PageLog::violations`]) and to steer failures
//!   ([`PageLog::fail_nth_map`], [`PageLog::fail_next_map`],
//!   [`PageLog::refuse_maps_over`], [`PageLog::refuse_all_maps`]). A map
//!   length that is not a non-zero whole number of pages, or an unmap that is
//!   not exactly one earlier map, is recorded as a violation (and not passed
//!   to the OS). Dropping the source unmaps whatever is still mapped.
//! - [`Model`] / [`LiveBlock`]: the live blocks (`a0`, `a1`, ... by id), their
//!   address (`addr` as a number, `ptr` with its provenance: read and write
//!   block memory through `ptr`, so Miri can follow it), requested size and
//!   the pattern written to them; freed ranges; counts.
//! - [`Check`]: the built-in named properties (aligned, inside mapped pages,
//!   no overlap, contents kept, usable size, size headers, page stats, chunk
//!   stats, no free list, no reuse, page source contract). A [`Config`]
//!   selects some (`Config::new(&[Check::Aligned, ...])`), adds lesson checks
//!   with [`Config::hook`] (called after every operation with a [`State`]:
//!   the heap, the model, the page log, the operation just [`Done`] and the
//!   page events it caused; return `Err(Failure::new(what, expected,
//!   found))`; [`Done::Start`] comes once per fresh heap, so a hook can
//!   reset per-heap state there), adds picture layers with
//!   [`Config::painter`], declares the 16-byte header with
//!   [`Config::with_headers`], and sets the operation mix ([`OpMix`],
//!   [`SizeMix`]) and the number of cases.
//!   Always on, selected or not: every new block (with its header) lies inside
//!   one mapping, and after an unmap every live block is still mapped (the
//!   engine never touches memory outside mapped pages, so a broken heap fails
//!   a test instead of crashing it).
//! - [`Session`]: a heap under test with its log, model and transcript.
//!   `malloc(size) -> Result<id, String>`, `try_malloc(size) ->
//!   Result<Option<id>, String>` (None allowed only when the source refused),
//!   `free(id)`, `write(id)`, `refuse_next_map()`, `apply(Op)`, `free_all()`,
//!   `finish()` (drop the heap, check its unmaps); `check_now()` runs the
//!   checks without an operation ([`Done::Nothing`]); `picture(focus)` draws
//!   the pages now; `ensure(ok, || Failure)` and `fail_now(Failure)` turn a
//!   scenario's own expectation into the full message. Every operation runs the configured checks; the `Err` string is
//!   the complete failure message: what broke, expected, found, the step,
//!   the operations (`a0 = malloc(24); write(a0); free(a0)`) and the picture.
//! - [`Picture`]: one character per 16 bytes, 64 a row (fewer on a narrow
//!   screen), one block of rows per mapping, identical rows folded, the
//!   mapping and rows of the failure drawn and the rest counted. Layers: `.` mapped, painters (a lesson's
//!   free chunks as `-` or list-order digits), `H` headers, a letter per live
//!   block (`a` = a0, `b` = a1...), `X` where two things share 16 bytes.
//!   [`Picture::paint`], [`Picture::paint_block`], [`Picture::paint_with`],
//!   [`Picture::legend`], [`Picture::note`], [`Picture::focus`].
//! - Test builders: [`property`]`(name, make, config)` runs proptest sequences
//!   ([`Op`]: malloc, free, write, refuse-next-map) from `ctx.seed`
//!   (ChaCha, no persistence), shrinks, and stops early on a `todo!()`;
//!   [`scenario`]`(name, make, config, |s| ...)` runs a named scenario on a
//!   [`Session`] (then frees what is live and drops the heap).
//!   [`check_property`] and [`run_sequence`] are the same without the `Test`.
//! - Fault injection ([`fault`]): [`fault::survives_map_failure`],
//!   [`fault::first_map_fails`], [`fault::hopeless_requests`]; and random
//!   refusals in properties via `OpMix { refuse_next_map: 1, .. }`.
//!
//! # Example (a lesson suite, in outline: `lesson4.rs` is a real one)
//!
//! ```text
//! pub fn suite<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Suite {
//!     let make = Rc::new(make);
//!     Suite { tests: vec![
//!         alloc::property("blocks_are_aligned", make.clone(), Config::new(&[Check::Aligned])),
//!         alloc::scenario("malloc_zero_is_unique", make.clone(), Config::new(&Check::ALL), |s| {
//!             let a = s.malloc(0)?;
//!             let b = s.malloc(0)?;
//!             s.ensure(s.ptr(a) != s.ptr(b), || Failure::new("same pointer", "two", "one"))
//!         }),
//!     ], programs: vec![] }
//! }
//! ```

mod check;
pub mod fault;
pub mod junk;
pub mod misuse;
mod model;
mod pages;
mod picture;
mod property;
pub mod record;
mod session;
pub mod window;

pub use check::{
    header_word, Check, CheckResult, Config, Done, Failure, Finding, HookFn, OpMix, PainterFn,
    SizeMix, State,
};
pub use model::{letter, pattern, pattern_byte, BlockName, LiveBlock, Model};
pub use pages::{InstrumentedPages, Mapping, PageEvent, PageLog};
pub use picture::{row_cells, Picture, CELL, COLUMNS_ENV, ROW_CELLS};
pub use property::{check_property, op_strategy, property, run_sequence, scenario, ScenarioFn};
pub use session::{Op, Session, HOPELESS};
