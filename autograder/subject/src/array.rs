//! Lesson 1's array in a file: the student's `MappedArray`, made, read,
//! written and dropped on the checker's command. The checker looks at the
//! file and at this process's mappings and descriptors itself.

use std::ops::DerefMut;
use std::path::Path;

use heaplab_protocol::Reply;

/// The student's array, whatever its type.
pub type BoxedArray = Box<dyn DerefMut<Target = [i32]>>;

/// `MappedArray::create(path, len)`, its error as text.
pub type CreateFn = Box<dyn Fn(&Path, usize) -> Result<BoxedArray, String>>;
/// `MappedArray::open(path)`, its error as text.
pub type OpenFn = Box<dyn Fn(&Path) -> Result<BoxedArray, String>>;

/// The student's two constructors.
pub struct ArrayFns {
    pub create: CreateFn,
    pub open: OpenFn,
}

/// The arrays of this case, by handle.
#[derive(Default)]
pub struct Arrays {
    slots: Vec<Option<BoxedArray>>,
}

impl Arrays {
    fn keep(&mut self, made: Result<BoxedArray, String>) -> Reply {
        match made {
            Ok(array) => {
                let len = array.len() as u64;
                self.slots.push(Some(array));
                Reply::Array {
                    id: (self.slots.len() - 1) as u32,
                    len,
                }
            }
            Err(e) => Reply::Error(e),
        }
    }

    pub fn create(&mut self, fns: &ArrayFns, path: &str, len: u64) -> Reply {
        let made = (fns.create)(Path::new(path), len as usize);
        self.keep(made)
    }

    pub fn open(&mut self, fns: &ArrayFns, path: &str) -> Reply {
        let made = (fns.open)(Path::new(path));
        self.keep(made)
    }

    fn slot(&mut self, id: u32) -> Option<&mut BoxedArray> {
        self.slots.get_mut(id as usize).and_then(Option::as_mut)
    }

    pub fn read(&mut self, id: u32) -> Reply {
        match self.slot(id) {
            Some(array) => Reply::Values(array.to_vec()),
            None => Reply::Error(format!("no array {id}")),
        }
    }

    pub fn write(&mut self, id: u32, values: &[i32]) -> Reply {
        let Some(array) = self.slot(id) else {
            return Reply::Error(format!("no array {id}"));
        };
        if array.len() != values.len() {
            return Reply::Error(format!(
                "the array has {} elements, not {}",
                array.len(),
                values.len()
            ));
        }
        array.copy_from_slice(values);
        Reply::Done
    }

    pub fn drop_array(&mut self, id: u32) -> Reply {
        match self.slots.get_mut(id as usize).and_then(Option::take) {
            Some(array) => {
                drop(array);
                Reply::Done
            }
            None => Reply::Error(format!("no array {id}")),
        }
    }
}
