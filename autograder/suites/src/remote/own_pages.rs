//! The student's own page source (lesson 2), in the student's process: each
//! call a request, and every answer checked from the outside, through the
//! process's `/proc/<pid>/maps` and memory.

use heaplab_protocol::{Failure, PageAnswer, Reply, Request};

use super::{procfs, unexpected, with_subject, StudentStopped};
use crate::own_pages::OwnPages;

/// The student's page source in a case process of its own.
pub struct RemotePages {
    pid: u32,
}

/// Makes the student's page source in the student's process (a suite's
/// `pages` argument in the checker).
pub fn own_pages() -> RemotePages {
    let started = with_subject(|s| {
        s.start_case()?;
        let pid = s.case_pid();
        let reply = s.call(Request::PagesNew, &mut |_| PageAnswer::Refused)?;
        Ok((pid, reply))
    });
    match started {
        Ok((Some(pid), Reply::Done)) => RemotePages { pid },
        Ok((None, _)) => std::panic::panic_any(super::CannotStart(
            "the student's process did not say which process it is".into(),
        )),
        Ok((_, other)) => panic!("{}", unexpected(other, "MmapPages::new()")),
        Err(stop) => std::panic::panic_any(StudentStopped {
            stop,
            during: "MmapPages::new()".into(),
        }),
    }
}

impl RemotePages {
    fn call(&self, request: Request, during: &str) -> Result<Reply, Failure> {
        match with_subject(|s| s.call(request, &mut |_| PageAnswer::Refused)) {
            Ok(reply @ (Reply::Panicked { .. } | Reply::Error(_) | Reply::Unsupported { .. })) => {
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

    fn outside(what: &str, e: std::io::Error) -> Failure {
        Failure::text(format!(
            "the checker could not look at the student's process ({what}): {e}"
        ))
    }
}

impl OwnPages for RemotePages {
    fn page_size(&mut self) -> Result<usize, Failure> {
        match self.call(Request::PagesPageSize, "page_size()")? {
            Reply::PageSize(n) => Ok(n as usize),
            other => Err(unexpected(other, "page_size()")),
        }
    }

    fn map(&mut self, len: usize) -> Result<Option<usize>, Failure> {
        let during = format!("map({len})");
        match self.call(Request::PagesMap { len: len as u64 }, &during)? {
            Reply::Mapped(addr) => Ok(addr.map(|a| a as usize)),
            other => Err(unexpected(other, &during)),
        }
    }

    fn unmap(&mut self, addr: usize, len: usize) -> Result<(), Failure> {
        let during = format!("unmap({addr:#x}, {len})");
        let request = Request::PagesUnmap {
            addr: addr as u64,
            len: len as u64,
        };
        self.call(request, &during).map(|_| ())
    }

    fn is_mapped(&self, addr: usize, len: usize) -> Result<bool, Failure> {
        let regions = procfs::maps(self.pid).map_err(|e| Self::outside("its mappings", e))?;
        Ok(procfs::covered(&regions, addr, len))
    }

    fn read(&self, addr: usize, len: usize) -> Result<Vec<u8>, Failure> {
        procfs::read(self.pid, addr, len).map_err(|e| Self::outside("its memory", e))
    }

    fn write(&self, addr: usize, bytes: &[u8]) -> Result<(), Failure> {
        procfs::write(self.pid, addr, bytes).map_err(|e| Self::outside("its memory", e))
    }
}

impl Drop for RemotePages {
    fn drop(&mut self) {
        let _ = with_subject(|s| s.end_case());
    }
}
