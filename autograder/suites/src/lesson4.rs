//! Lesson 4's suite: a free list kept inside the free memory, first fit,
//! splitting. The heap checker (`free_list`) runs after every operation.

use std::rc::Rc;

use heaplab_kit::Heap;

use crate::alloc::{Failure, InstrumentedPages, Session};
use crate::free_list::{self, live_chunk, Rules};
use crate::harness::Suite;

/// Lesson 4's tests for the heap `make` builds.
pub fn suite<H: Heap + 'static>(make: impl Fn(InstrumentedPages) -> H + 'static) -> Suite {
    let make = Rc::new(make);
    let rules = Rules::LESSON4;
    let mut tests = free_list::properties(&make, rules);
    tests.push(free_list::memory_is_reused(
        "memory_is_reused",
        make.clone(),
        rules,
    ));
    let mut scenarios = free_list::common();
    scenarios.push((
        "free_puts_the_chunk_at_the_head",
        free_puts_the_chunk_at_the_head,
    ));
    tests.extend(free_list::tests(&make, rules, &scenarios));
    Suite {
        tests,
        programs: vec![crate::trace::replay_program(&make)],
    }
}

/// Lesson 4's list is a stack: `free` pushes the chunk at the head.
fn free_puts_the_chunk_at_the_head<H: Heap>(s: &mut Session<'_, H>) -> Result<(), Failure> {
    let ids = free_list::neighbours(s, 3, 40)?;
    let (a, c) = (ids[0], ids[2]);
    let chunk_a = live_chunk(s.heap(), s.block(a));
    let chunk_c = live_chunk(s.heap(), s.block(c));
    s.free(a)?;
    s.free(c)?;
    let walk = s.heap().free_blocks();
    let head: Vec<usize> = walk.iter().take(2).map(|b| b.addr).collect();
    s.ensure(head == [chunk_c.addr, chunk_a.addr], || {
        Failure::new(
            "free did not put the chunk at the head of the list",
            format!(
                "the list starting with {:#x} (the chunk freed last), then {:#x}",
                chunk_c.addr, chunk_a.addr
            ),
            format!("the list starting with {head:#x?}"),
        )
    })
}
