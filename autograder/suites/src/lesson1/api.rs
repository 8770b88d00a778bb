//! The student's array as lesson 1's tests reach it: make it (`create`,
//! `open`), read and write its elements, drop it, and look at the process
//! that holds it from the outside (its mappings and open files).
//!
//! In the checker the arrays live in the student's process
//! ([`crate::remote::RemoteArrays`]); in a local harness, here ([`LocalArrays`]).

use std::fmt::Display;
use std::ops::DerefMut;
use std::path::Path;

use heaplab_protocol::Failure;

/// An array made: its handle and its length, or the student's error.
pub type Made = Result<(u32, usize), String>;

/// The student's arrays and the process that holds them.
pub trait ArrayApi {
    /// `MappedArray::create(path, len)`.
    fn create(&mut self, path: &Path, len: usize) -> Result<Made, Failure>;
    /// `MappedArray::open(path)`.
    fn open(&mut self, path: &Path) -> Result<Made, Failure>;
    /// The array's elements.
    fn read(&mut self, id: u32) -> Result<Vec<i32>, Failure>;
    /// Writes every element (as many values as the array has).
    fn write(&mut self, id: u32, values: &[i32]) -> Result<(), Failure>;
    /// Drops the array.
    fn drop_array(&mut self, id: u32) -> Result<(), Failure>;
    /// The lines of the holding process's `/proc/<pid>/maps` that map `path`.
    fn maps_of(&self, path: &Path) -> Result<Vec<String>, Failure>;
    /// The holding process's file descriptors open on `path`.
    fn descriptors_on(&self, path: &Path) -> Result<Vec<u32>, Failure>;
}

/// Reads `/proc/<pid>/maps` lines mapping `path`.
pub fn maps_lines(pid: &str, path: &Path) -> Result<Vec<String>, Failure> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| Failure::text(format!("cannot read /proc/{pid}/maps: {e}")))?;
    let path = path.to_string_lossy();
    Ok(maps
        .lines()
        .filter(|line| line.ends_with(&*path))
        .map(str::to_string)
        .collect())
}

/// Process `pid`'s file descriptors open on `path`.
pub fn descriptors(pid: &str, path: &Path) -> Result<Vec<u32>, Failure> {
    let entries = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map_err(|e| Failure::text(format!("cannot list /proc/{pid}/fd: {e}")))?;
    Ok(entries
        .flatten()
        .filter(|entry| std::fs::read_link(entry.path()).ok().as_deref() == Some(path))
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect())
}

/// An array of the student's, whatever its type.
type Boxed = Box<dyn DerefMut<Target = [i32]>>;

/// The student's arrays in this process (a local harness).
pub struct LocalArrays<M, E> {
    create: fn(&Path, usize) -> Result<M, E>,
    open: fn(&Path) -> Result<M, E>,
    slots: Vec<Option<Boxed>>,
}

/// The student's two constructors, to make arrays in this process.
pub fn local<M, E>(
    create: fn(&Path, usize) -> Result<M, E>,
    open: fn(&Path) -> Result<M, E>,
) -> impl Fn() -> LocalArrays<M, E> {
    move || LocalArrays {
        create,
        open,
        slots: Vec::new(),
    }
}

impl<M: DerefMut<Target = [i32]> + 'static, E: Display> LocalArrays<M, E> {
    fn keep(&mut self, made: Result<M, E>) -> Made {
        let array = made.map_err(|e| e.to_string())?;
        let len = array.len();
        self.slots.push(Some(Box::new(array)));
        Ok(((self.slots.len() - 1) as u32, len))
    }

    fn slot(&mut self, id: u32) -> Result<&mut Boxed, Failure> {
        self.slots
            .get_mut(id as usize)
            .and_then(Option::as_mut)
            .ok_or_else(|| Failure::text(format!("no array {id} (a kit bug)")))
    }
}

impl<M: DerefMut<Target = [i32]> + 'static, E: Display> ArrayApi for LocalArrays<M, E> {
    fn create(&mut self, path: &Path, len: usize) -> Result<Made, Failure> {
        let made = (self.create)(path, len);
        Ok(self.keep(made))
    }

    fn open(&mut self, path: &Path) -> Result<Made, Failure> {
        let made = (self.open)(path);
        Ok(self.keep(made))
    }

    fn read(&mut self, id: u32) -> Result<Vec<i32>, Failure> {
        Ok(self.slot(id)?.to_vec())
    }

    fn write(&mut self, id: u32, values: &[i32]) -> Result<(), Failure> {
        self.slot(id)?.copy_from_slice(values);
        Ok(())
    }

    fn drop_array(&mut self, id: u32) -> Result<(), Failure> {
        drop(self.slots.get_mut(id as usize).and_then(Option::take));
        Ok(())
    }

    fn maps_of(&self, path: &Path) -> Result<Vec<String>, Failure> {
        maps_lines("self", path)
    }

    fn descriptors_on(&self, path: &Path) -> Result<Vec<u32>, Failure> {
        descriptors("self", path)
    }
}
