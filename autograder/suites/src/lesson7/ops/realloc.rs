//! `realloc` on the model: where the block must stay, and what it must keep.

use std::ptr::NonNull;

use heaplab_kit::layout::HEADER_BYTES;
use heaplab_kit::{FullHeap, ALIGN};

use super::run::{name, Live, Run};
use super::Layout;
use crate::alloc::Failure;
use crate::free_list::chunk_bytes_for;

impl<H: FullHeap> Run<H> {
    /// `realloc` of the live block at `index` to `size` bytes.
    pub(super) fn realloc(&mut self, index: usize, size: usize) -> Result<(), Failure> {
        let (old_id, old_addr, old_size) = {
            let b = &self.live[index];
            (b.id, b.addr, b.size)
        };
        let new_id = self.next_id;
        self.record(format!(
            "{} = realloc({}, {size})",
            name(new_id),
            name(old_id)
        ));
        let ptr = NonNull::new(old_addr as *mut u8).expect("non-null");
        let refusals = self.log.refusals();
        let reason = self.in_place_reason(ptr, size);
        // SAFETY: a live block of this heap; on Some, the old one is gone.
        let Some(new) = (unsafe { self.heap.realloc(ptr, size) }) else {
            // The old block stays live, as it was; the checks see to it.
            return self.none_allowed(refusals, &format!("realloc({}, {size})", name(old_id)));
        };
        let new_addr = new.as_ptr() as usize;
        if let Some(reason) = reason {
            if new_addr != old_addr {
                return Err(self.fail(
                    format!("realloc({}, {size}) moved the block", name(old_id)),
                    format!("the same address {old_addr:#x}: {reason}"),
                    format!("a new block at {new_addr:#x}"),
                ));
            }
        }
        let block = self.live.remove(index);
        self.kept(block, new, size, old_size)
    }

    /// Why `realloc(ptr, size)` must stay in place, by the heap's own
    /// layout, when the rules expect it to: the block shrinks, or the chunk
    /// right after it is free, in the same mapping, and big enough.
    fn in_place_reason(&self, ptr: NonNull<u8>, size: usize) -> Option<String> {
        // SAFETY: a live block of this heap.
        let usable = unsafe { self.heap.usable_size(ptr) };
        let in_place = self.rules.in_place && self.rules.layout == Layout::Headers;
        let (true, Some(usable), Some(need)) = (in_place, usable, chunk_bytes_for(size)) else {
            return None;
        };
        let chunk = ptr.as_ptr() as usize - HEADER_BYTES;
        let chunk_bytes = usable + HEADER_BYTES;
        // Only small chunks: a big one may rightly move to the free list
        // when it shrinks, to give its pages back.
        if need <= chunk_bytes && chunk_bytes < self.log.page_size() {
            return Some(format!(
                "the block shrinks ({chunk_bytes}-byte chunk, {need} needed)"
            ));
        }
        let next = self
            .heap
            .free_blocks()
            .into_iter()
            .find(|b| b.addr == chunk + chunk_bytes)?;
        let joined = chunk_bytes + next.size;
        (joined >= need && self.log.mapping_holding(chunk, joined).is_some()).then(|| {
            format!(
                "the {}-byte chunk right after it at {:#x} is free: {chunk_bytes} + {} >= {need}",
                next.size, next.addr, next.size
            )
        })
    }

    /// `block`, reallocated to `new` of `size` bytes (from `old_size`): it
    /// holds the block's first bytes, and joins the model under a new name.
    fn kept(
        &mut self,
        mut block: Live,
        new: NonNull<u8>,
        size: usize,
        old_size: usize,
    ) -> Result<(), Failure> {
        let (old_id, new_addr) = (block.id, new.as_ptr() as usize);
        let kept = block.bytes.len().min(size);
        block.bytes.truncate(kept);
        // SAFETY: the new block has at least `size` >= kept bytes.
        let now = unsafe { std::slice::from_raw_parts(new.as_ptr(), kept) };
        if now != block.bytes.as_slice() {
            let at = now
                .iter()
                .zip(&block.bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            let (want, got) = (block.bytes[at], now[at]);
            self.live.push(Live {
                addr: new_addr,
                size,
                align: ALIGN,
                ..block
            });
            return Err(self.fail(
                format!(
                    "realloc({}, {size}) lost the block's contents (old size {old_size})",
                    name(old_id)
                ),
                format!("the first {kept} bytes kept; byte {at} = {want:#04x}"),
                format!("byte {at} = {got:#04x}"),
            ));
        }
        self.live.push(Live {
            id: self.next_id,
            addr: new_addr,
            size,
            align: ALIGN,
            bytes: block.bytes,
        });
        self.next_id += 1;
        Ok(())
    }
}
