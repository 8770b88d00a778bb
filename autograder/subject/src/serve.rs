//! What a lesson's subject can do: the student's constructors and
//! functions, given by the `subject` line of `course.toml`.

use std::alloc::GlobalAlloc;
use std::fmt::Display;
use std::ops::DerefMut;
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;

use heaplab_kit::{FullHeap, Heap, PageSource, SharedHeap};
use heaplab_traces::program::main as replay_main;
use heaplab_traces::replay::{HeapAllocator, ReallocAllocator};

use crate::array::{ArrayFns, BoxedArray};
use crate::heaps::AnyHeap;
use crate::pages::GraderPages;
use crate::threads::{Shared, SharedOps};

/// Makes the student's heap over the grader's pages.
pub(crate) type MakeHeap = Box<dyn Fn(GraderPages) -> AnyHeap>;
/// Makes the student's own page source (lesson 2).
pub(crate) type MakePages = Box<dyn Fn() -> Box<dyn PageSource>>;
/// Makes the student's heap behind its lock, over the grader's pages.
pub(crate) type MakeShared = Box<dyn Fn(GraderPages) -> Box<dyn SharedOps>>;
/// A program's `main`, given the arguments after `--as NAME`.
pub(crate) type ProgramFn = Box<dyn Fn(&[String]) -> ExitCode>;
/// A fixture function the checker calls by name.
pub type CallFn = (&'static str, fn() -> u64);

/// The parts of the student's crate a lesson's checker may ask for.
#[derive(Default)]
pub struct Serve {
    pub(crate) heap: Option<MakeHeap>,
    pub(crate) own_pages: Option<MakePages>,
    pub(crate) array: Option<ArrayFns>,
    pub(crate) shared: Option<MakeShared>,
    pub(crate) programs: Vec<(&'static str, ProgramFn)>,
    pub(crate) calls: Vec<CallFn>,
}

impl Serve {
    /// A subject that can do nothing yet.
    pub fn new() -> Self {
        Serve::default()
    }

    /// The student's heap, made over the grader's pages (lessons 2 to 6),
    /// and the `replay` program of `grade bench` on it.
    pub fn heap<H: Heap + 'static>(mut self, make: impl Fn(GraderPages) -> H + 'static) -> Self {
        let make = Rc::new(make);
        let made = make.clone();
        self.heap = Some(Box::new(move |pages| AnyHeap::Plain(Box::new(made(pages)))));
        self.programs.push((
            "replay",
            Box::new(move |args| {
                replay_main(args, &|| {
                    let pages = GraderPages::new();
                    let meter = pages.footprint();
                    (HeapAllocator(make(pages)), meter)
                })
            }),
        ));
        self
    }

    /// The student's heap with C's whole malloc family (lesson 7 on), and
    /// the `replay` program on it (traces' resizes call its `realloc`).
    pub fn full_heap<H: FullHeap + 'static>(
        mut self,
        make: impl Fn(GraderPages) -> H + 'static,
    ) -> Self {
        let make = Rc::new(make);
        let made = make.clone();
        self.heap = Some(Box::new(move |pages| AnyHeap::Full(Box::new(made(pages)))));
        self.programs.push((
            "replay",
            Box::new(move |args| {
                replay_main(args, &|| {
                    let pages = GraderPages::new();
                    let meter = pages.footprint();
                    (ReallocAllocator(make(pages)), meter)
                })
            }),
        ));
        self
    }

    /// The student's own page source (lesson 2's `MmapPages`).
    pub fn own_pages<P: PageSource + 'static>(mut self, make: impl Fn() -> P + 'static) -> Self {
        self.own_pages = Some(Box::new(move || Box::new(make())));
        self
    }

    /// Lesson 1's array in a file: its two constructors.
    pub fn array<M, E>(
        mut self,
        create: fn(&Path, usize) -> Result<M, E>,
        open: fn(&Path) -> Result<M, E>,
    ) -> Self
    where
        M: DerefMut<Target = [i32]> + 'static,
        E: Display + 'static,
    {
        let boxed = |r: Result<M, E>| -> Result<BoxedArray, String> {
            r.map(|m| Box::new(m) as BoxedArray)
                .map_err(|e| e.to_string())
        };
        self.array = Some(ArrayFns {
            create: Box::new(move |path, len| boxed(create(path, len))),
            open: Box::new(move |path| boxed(open(path))),
        });
        self
    }

    /// The student's heap behind its lock, shared by threads and used as a
    /// `GlobalAlloc` (lesson 7 on).
    pub fn shared<L>(mut self, make: impl Fn(GraderPages) -> L + 'static) -> Self
    where
        L: SharedHeap + GlobalAlloc + Send + Sync + 'static,
    {
        self.shared = Some(Box::new(move |pages| Box::new(Shared::new(make(pages)))));
        self
    }

    /// A program the checker starts as `subject --as NAME` (lesson 1's
    /// `save-array`); `main` returns the exit code.
    pub fn program(mut self, name: &'static str, main: fn() -> ExitCode) -> Self {
        self.programs.push((name, Box::new(move |_| main())));
        self
    }

    /// A program that takes arguments: `subject --as NAME ARGS…`.
    pub fn program_with_args(
        mut self,
        name: &'static str,
        main: impl Fn(&[String]) -> ExitCode + 'static,
    ) -> Self {
        self.programs.push((name, Box::new(main)));
        self
    }

    /// A function the checker calls by name, answering a number (the
    /// grader's own fixture lesson).
    pub fn call(mut self, name: &'static str, f: fn() -> u64) -> Self {
        self.calls.push((name, f));
        self
    }

    /// Functions the checker calls by name (the grader's own fixture lesson).
    pub fn calls(mut self, calls: &[CallFn]) -> Self {
        self.calls.extend_from_slice(calls);
        self
    }

    /// The program named `name`.
    pub(crate) fn find_program(&self, name: &str) -> Option<&ProgramFn> {
        self.programs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
    }
}
