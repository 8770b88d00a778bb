//! The picture layer of the free-list lessons: free chunks as `-`, each
//! chunk's header numbered by its place in the list.

use heaplab_kit::Heap;
use heaplab_protocol::heap_state::ListEnd;

use super::show;
use heaplab_kit::layout::HEADER_BYTES;

use crate::alloc::{Model, PageLog, Picture};

/// The picture layer: each free chunk drawn as `-`, its first 16 bytes as
/// its place in the free list (1 to 9, then `+`).
pub fn paint_free_chunks<H: Heap>(heap: &H, _model: &Model, _log: &PageLog, pic: &mut Picture) {
    let walk = heap.free_blocks();
    for (i, f) in walk.iter().enumerate().take(512) {
        if !pic.paint(f.addr, f.size, '-') {
            pic.note(format!(
                "free chunk #{} {} is in no mapping",
                i + 1,
                show(f)
            ));
            continue;
        }
        let mark = if i < 9 {
            char::from(b'1' + i as u8)
        } else {
            '+'
        };
        pic.paint(f.addr, HEADER_BYTES.min(f.size.max(1)), mark);
    }
    pic.set_free_list(
        walk.iter().map(|f| (f.addr, f.size)).collect(),
        ListEnd::Null,
    );
    if !walk.is_empty() {
        pic.legend("- free chunk");
        pic.legend("1-9 a free chunk's header, numbered in free-list order (+ from the 10th)");
    }
}
