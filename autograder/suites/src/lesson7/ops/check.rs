//! The checks run after every call of a sequence: the page source's
//! contract; each live block aligned, inside mapped pages, big enough and
//! holding its bytes; free chunks inside mapped pages and apart from live
//! blocks; the free-list length.

use std::ptr::NonNull;

use heaplab_kit::{Block, FullHeap, ALIGN};

use super::run::{name, Live, Run};
use super::Layout;
use crate::alloc::Failure;

impl<H: FullHeap> Run<H> {
    /// The checks run after every operation.
    pub(super) fn check(&self) -> Result<(), Failure> {
        if let Some(v) = self.log.violations().first() {
            return Err(self.fail(
                "the heap broke the page source's contract",
                "exact unmaps of whole mappings",
                v,
            ));
        }
        for b in &self.live {
            self.check_live(b)?;
        }
        if self.rules.layout == Layout::Any {
            return self.check_apart(&[]);
        }
        let blocks = self.heap.free_blocks();
        self.check_apart(&blocks)?;
        let length = self.heap.stats().free_length;
        if length != blocks.len() {
            return Err(self.fail(
                "stats().free_length is off",
                format!("{} (the free-list walk)", blocks.len()),
                length,
            ));
        }
        Ok(())
    }

    /// A live block is aligned as asked, inside mapped pages, at least as
    /// big as asked and holds the bytes the model says.
    fn check_live(&self, b: &Live) -> Result<(), Failure> {
        let align = b.align.max(ALIGN);
        if !b.addr.is_multiple_of(align) {
            return Err(self.fail(
                format!("{} is misaligned", name(b.id)),
                format!("an address that is a multiple of {align}"),
                format!("{:#x}", b.addr),
            ));
        }
        let header = self.rules.header();
        if self
            .log
            .mapping_holding(b.addr - header, header + b.size.max(1))
            .is_none()
        {
            let what = if header > 0 {
                "its header and payload inside one live mapping"
            } else {
                "all its bytes inside one live mapping"
            };
            return Err(self.fail(
                format!("{} is not inside mapped pages", name(b.id)),
                what,
                format!("[{:#x}, {:#x})", b.addr - header, b.addr + b.size),
            ));
        }
        let ptr = NonNull::new(b.addr as *mut u8).expect("non-null");
        // SAFETY: a live block of this heap.
        if let Some(usable) = unsafe { self.heap.usable_size(ptr) } {
            if usable < b.size {
                return Err(self.fail(
                    format!("{} is too small", name(b.id)),
                    format!("usable_size >= {}", b.size),
                    usable,
                ));
            }
        }
        // SAFETY: the test owns the block's bytes.
        let now = unsafe { std::slice::from_raw_parts(b.addr as *const u8, b.bytes.len()) };
        if let Some(at) = now.iter().zip(&b.bytes).position(|(x, y)| x != y) {
            return Err(self.fail(
                format!("{} does not hold what it should", name(b.id)),
                format!(
                    "byte {at} = {:#04x} (zeros after calloc, the pattern after a write)",
                    b.bytes[at]
                ),
                format!("byte {at} = {:#04x}", now[at]),
            ));
        }
        Ok(())
    }

    /// Every free chunk lies inside mapped pages, and live blocks (with their
    /// headers, in the course's layout) and free chunks are all apart.
    fn check_apart(&self, blocks: &[Block]) -> Result<(), Failure> {
        let header = self.rules.header();
        let mut spans: Vec<(usize, usize, String)> = self
            .live
            .iter()
            .map(|b| (b.addr - header, b.addr + b.size.max(1), name(b.id)))
            .collect();
        for f in blocks {
            if self.log.mapping_holding(f.addr, f.size).is_none() {
                return Err(self.fail(
                    "a free chunk is outside mapped pages",
                    "every free chunk inside one live mapping",
                    format!("[{:#x}, {:#x})", f.addr, f.end()),
                ));
            }
            spans.push((f.addr, f.end(), format!("the free chunk at {:#x}", f.addr)));
        }
        spans.sort();
        for pair in spans.windows(2) {
            if pair[0].1 > pair[1].0 {
                return Err(self.fail(
                    format!("{} overlaps {}", pair[0].2, pair[1].2),
                    if header > 0 {
                        "live blocks (with their headers) and free chunks apart"
                    } else {
                        "live blocks apart"
                    },
                    format!(
                        "[{:#x}, {:#x}) and [{:#x}, {:#x})",
                        pair[0].0, pair[0].1, pair[1].0, pair[1].1
                    ),
                ));
            }
        }
        Ok(())
    }
}
