//! Lesson 1's arrays, in the student's process: each call a request, and
//! the process's mappings and open files read from `/proc` by the checker.

use std::path::Path;

use heaplab_protocol::{Failure, PageAnswer, Reply, Request};

use super::{unexpected, with_subject, StudentStopped};
use crate::lesson1::api::{descriptors, maps_lines};
use crate::lesson1::{ArrayApi, Made};

/// The student's arrays in a case process of their own.
pub struct RemoteArrays {
    pid: u32,
}

/// Makes a fresh case process for the student's arrays (lesson 1's suite's
/// `arrays` in the checker).
pub fn arrays() -> RemoteArrays {
    let pid = with_subject(|s| {
        s.start_case()?;
        Ok(s.case_pid())
    });
    match pid {
        Ok(Some(pid)) => RemoteArrays { pid },
        Ok(None) => std::panic::panic_any(super::CannotStart(
            "the student's process did not say which process it is".into(),
        )),
        Err(stop) => std::panic::panic_any(StudentStopped {
            stop,
            during: "starting a process for the arrays".into(),
        }),
    }
}

impl RemoteArrays {
    fn call(&self, request: Request, during: &str) -> Result<Reply, Failure> {
        match with_subject(|s| s.call(request, &mut |_| PageAnswer::Refused)) {
            Ok(reply @ (Reply::Panicked { .. } | Reply::Unsupported { .. })) => {
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

    fn made(&self, request: Request, during: &str) -> Result<Made, Failure> {
        match self.call(request, during)? {
            Reply::Array { id, len } => Ok(Ok((id, len as usize))),
            Reply::Error(e) => Ok(Err(e)),
            other => Err(unexpected(other, during)),
        }
    }

    fn done(&self, request: Request, during: &str) -> Result<(), Failure> {
        match self.call(request, during)? {
            Reply::Done => Ok(()),
            other => Err(unexpected(other, during)),
        }
    }
}

impl ArrayApi for RemoteArrays {
    fn create(&mut self, path: &Path, len: usize) -> Result<Made, Failure> {
        let request = Request::ArrayCreate {
            path: path.to_string_lossy().into_owned(),
            len: len as u64,
        };
        self.made(request, &format!("MappedArray::create(path, {len})"))
    }

    fn open(&mut self, path: &Path) -> Result<Made, Failure> {
        let request = Request::ArrayOpen {
            path: path.to_string_lossy().into_owned(),
        };
        self.made(request, "MappedArray::open(path)")
    }

    fn read(&mut self, id: u32) -> Result<Vec<i32>, Failure> {
        match self.call(Request::ArrayRead { id }, "reading the array")? {
            Reply::Values(values) => Ok(values),
            other => Err(unexpected(other, "reading the array")),
        }
    }

    fn write(&mut self, id: u32, values: &[i32]) -> Result<(), Failure> {
        let request = Request::ArrayWrite {
            id,
            values: values.to_vec(),
        };
        self.done(request, "writing the array")
    }

    fn drop_array(&mut self, id: u32) -> Result<(), Failure> {
        self.done(Request::ArrayDrop { id }, "dropping the array")
    }

    fn maps_of(&self, path: &Path) -> Result<Vec<String>, Failure> {
        maps_lines(&self.pid.to_string(), path)
    }

    fn descriptors_on(&self, path: &Path) -> Result<Vec<u32>, Failure> {
        descriptors(&self.pid.to_string(), path)
    }
}

impl Drop for RemoteArrays {
    fn drop(&mut self) {
        let _ = with_subject(|s| s.end_case());
    }
}
