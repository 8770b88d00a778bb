//! Lesson 2's page source, the student's own `MmapPages`, on the checker's
//! command. The checker verifies each map from the outside: this process's
//! `/proc/<pid>/maps`, and the bytes through `process_vm_readv`.

use std::ptr::NonNull;

use heaplab_kit::PageSource;
use heaplab_protocol::Reply;

/// The student's page source of this case, once made.
#[derive(Default)]
pub struct OwnPages {
    source: Option<Box<dyn PageSource>>,
}

impl OwnPages {
    pub fn make(&mut self, make: &dyn Fn() -> Box<dyn PageSource>) -> Reply {
        self.source = Some(make());
        Reply::Done
    }

    fn source(&mut self) -> Result<&mut Box<dyn PageSource>, Reply> {
        self.source
            .as_mut()
            .ok_or_else(|| Reply::Error("no page source made yet".into()))
    }

    pub fn page_size(&mut self) -> Reply {
        match self.source() {
            Ok(s) => Reply::PageSize(s.page_size() as u64),
            Err(e) => e,
        }
    }

    pub fn map(&mut self, len: u64) -> Reply {
        match self.source() {
            Ok(s) => Reply::Mapped(
                s.map(len as usize)
                    .map(|p| p.expose_provenance().get() as u64),
            ),
            Err(e) => e,
        }
    }

    pub fn unmap(&mut self, addr: u64, len: u64) -> Reply {
        let source = match self.source() {
            Ok(s) => s,
            Err(e) => return e,
        };
        let Some(ptr) = NonNull::new(std::ptr::with_exposed_provenance_mut(addr as usize)) else {
            return Reply::Error("unmap of a null pointer".into());
        };
        // SAFETY: the checker unmaps exactly a range this source's map
        // returned, once, and nothing in this process uses it.
        unsafe { source.unmap(ptr, len as usize) };
        Reply::Done
    }
}
