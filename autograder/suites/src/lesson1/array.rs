//! Lesson 1's array in a file: created, written, dropped, opened again;
//! empty; shared between processes; unmapped and closed when dropped.

use std::fs;
use std::path::Path;

use heaplab_protocol::Failure;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

use super::api::ArrayApi;
use super::text::{compare_elements, decode, encode, indent, preview};
use super::{runner, temp_dir, ROUND_TRIP_CASES};
use crate::cases;
use crate::harness::Ctx;

/// The array `made`, or the student's error as the failure of `call`.
fn made(call: &str, made: super::api::Made) -> Result<(u32, usize), Failure> {
    made.map_err(|e| Failure::text(format!("{call} failed: {e}")))
}

/// Any array survives a trip through its file: `create` (all zeros, even
/// over an old file), write every element, drop; the file holds exactly
/// those bytes; `open` reads them back.
pub fn round_trip_through_the_file<A: ArrayApi>(
    arrays: &dyn Fn() -> A,
    ctx: &Ctx,
) -> Result<(), Failure> {
    let dir = temp_dir()?;
    let path = dir.path().join("round-trip.mem");
    // Short arrays shrink well and include the empty one; long ones span
    // several pages (1024 elements a page).
    let strategy = prop_oneof![vec(any::<i32>(), 0..=16), vec(any::<i32>(), 0..=2100)];
    let mut runner = runner(ctx.seed, ROUND_TRIP_CASES);
    let found = |values: &Vec<i32>| {
        format!(
            "(the smallest failing array found, {} element(s): {})",
            values.len(),
            preview(values)
        )
    };
    cases::run(&mut runner, &strategy, found, |values| {
        round_trip_once(&mut arrays(), &path, &values)
    })
}

fn round_trip_once(arrays: &mut impl ArrayApi, path: &Path, values: &[i32]) -> Result<(), Failure> {
    let n = values.len();
    let (id, len) = made(&format!("create(path, {n})"), arrays.create(path, n)?)?;
    if len != n {
        return Err(Failure::new(
            format!("create(path, {n}) gave an array of the wrong length"),
            format!("{n} elements"),
            format!("{len}"),
        ));
    }
    // The file is reused from case to case: create must empty it.
    let fresh = arrays.read(id)?;
    if let Some(i) = fresh.iter().position(|&x| x != 0) {
        return Err(Failure::text(format!(
            "create(path, {n}) over an existing file gave element {i} = {}; \
             expected all zeros (create empties the file: O_TRUNC)",
            fresh[i]
        )));
    }
    arrays.write(id, values)?;
    arrays.drop_array(id)?;
    file_holds(
        path,
        values,
        "after writing the elements and dropping the array",
    )?;
    let (id, _) = made("open(path)", arrays.open(path)?)?;
    let back = arrays.read(id)?;
    if back != values {
        return Err(Failure::text(format!(
            "open(path) of the file written gives other elements\n{}",
            compare_elements(values, &back)
        )));
    }
    arrays.drop_array(id)
}

/// The file at `path` holds exactly `values`.
fn file_holds(path: &Path, values: &[i32], when: &str) -> Result<(), Failure> {
    let bytes = fs::read(path).map_err(|e| format!("the file cannot be read back: {e}"))?;
    if bytes.len() != values.len() * 4 {
        return Err(Failure::text(format!(
            "{when}, the file is {} bytes; expected {} ({} elements of 4 bytes)",
            bytes.len(),
            values.len() * 4,
            values.len()
        )));
    }
    if bytes != encode(values) {
        return Err(Failure::text(format!(
            "{when}, the file does not hold them\n{}",
            compare_elements(values, &decode(&bytes))
        )));
    }
    Ok(())
}

/// An empty array maps nothing (mmap refuses length 0): `create(path, 0)`
/// and `open` of an empty file succeed, with an empty slice.
pub fn empty_array_maps_nothing<A: ArrayApi>(arrays: &mut A) -> Result<(), Failure> {
    let dir = temp_dir()?;
    let path = dir.path().join("empty.mem");
    let created = arrays.create(&path, 0)?.map_err(|e| {
        format!("create(path, 0) failed: {e}\nexpected an empty array (mmap refuses length 0)")
    })?;
    check_empty(arrays, "create(path, 0)", created, &path)?;
    arrays.drop_array(created.0)?;
    let size = fs::metadata(&path)
        .map_err(|e| format!("after create(path, 0) the file is missing: {e}"))?
        .len();
    if size != 0 {
        return Err(Failure::new(
            "after create(path, 0) the file is not empty",
            "0 bytes",
            format!("{size} bytes"),
        ));
    }
    let opened = arrays
        .open(&path)?
        .map_err(|e| format!("open(path) of an empty file failed: {e}\nexpected an empty array"))?;
    check_empty(arrays, "open(path) of an empty file", opened, &path)
}

fn check_empty(
    arrays: &impl ArrayApi,
    what: &str,
    (_, len): (u32, usize),
    path: &Path,
) -> Result<(), Failure> {
    if len != 0 {
        return Err(Failure::new(
            format!("{what} gave elements"),
            "none",
            len.to_string(),
        ));
    }
    if !arrays.maps_of(path)?.is_empty() {
        return Err(Failure::text(format!(
            "{what} gave an empty array, but the process's mappings (/proc/<pid>/maps) \
             list a mapping of the file: an empty array needs no mmap"
        )));
    }
    Ok(())
}

/// Writes through the array's mapping reach the file at once, and writes
/// to the file show in the mapping, for an array from `create` and one from
/// `open`: MAP_SHARED. (The checker's side reads and writes the file with
/// plain file I/O, as a second process would.)
pub fn writes_are_shared_between_processes<A: ArrayApi>(
    arrays: &mut A,
    ctx: &Ctx,
) -> Result<(), Failure> {
    // More than one page, so every page must be shared, not just the first.
    let mut runner = runner(ctx.seed, 1);
    let values = vec(any::<i32>(), 1500)
        .new_tree(&mut runner)
        .map_err(|e| format!("could not draw values: {e}"))?
        .current();
    let dir = temp_dir()?;
    let path = dir.path().join("shared.mem");
    let n = values.len();
    let (id, _) = made(&format!("create(path, {n})"), arrays.create(&path, n)?)?;
    arrays.write(id, &values)?;
    file_holds(
        &path,
        &values,
        "while the array from create is still mapped and written",
    )
    .map_err(|f| f.note(SHARED))?;
    let flipped: Vec<i32> = values.iter().map(|v| !v).collect();
    overwrite(&path, &encode(&flipped))?;
    let seen = arrays.read(id)?;
    if seen != flipped {
        return Err(Failure::text(format!(
            "another process wrote !x into every element of the file; the array from \
             create, still mapped, does not show it\n{}",
            compare_elements(&flipped, &seen)
        ))
        .note(SHARED));
    }
    let (other, _) = made("open(path)", arrays.open(&path)?)?;
    arrays.write(other, &values)?;
    file_holds(
        &path,
        &values,
        "while the array from open is still mapped and written",
    )
    .map_err(|f| f.note(SHARED))
}

/// Writes `bytes` over the start of the file at `path` (no truncation: the
/// student's mapping of it stays whole), as another process would.
fn overwrite(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::os::unix::fs::FileExt;
    let file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("cannot open the file to write it: {e}"))?;
    file.write_all_at(bytes, 0)
        .map_err(|e| Failure::text(format!("cannot write the file: {e}")))
}

const SHARED: &str = "(writes through a MAP_SHARED mapping reach the file at once; \
                      MAP_PRIVATE keeps them in the writing process)";

/// The two ways to get an array of a file, named for messages: `create`
/// (3000 elements: three pages, so that unmapping only the first page, or
/// `len` bytes instead of `len * 4`, shows), then `open` of that file.
const MAKERS: [&str; 2] = ["create(path, 3000)", "open(path)"];

/// An array of the file at `path`, made as `made_by` (one of [`MAKERS`]) says.
fn make(arrays: &mut impl ArrayApi, made_by: &str, path: &Path) -> Result<u32, Failure> {
    let got = if made_by.starts_with("create") {
        arrays.create(path, 3000)?
    } else {
        arrays.open(path)?
    };
    made(made_by, got).map(|(id, _)| id)
}

/// Dropping an array unmaps the file, whether `create` or `open` made it.
pub fn drop_unmaps_the_file<A: ArrayApi>(arrays: &mut A) -> Result<(), Failure> {
    let dir = temp_dir()?;
    let path = dir.path().join("dropped.mem");
    for made_by in MAKERS {
        let id = make(arrays, made_by, &path)?;
        if arrays.maps_of(&path)?.is_empty() {
            return Err(Failure::text(format!(
                "while the array from {made_by} is alive, the process's mappings show no \
                 mapping of the file: is the file mmap-ed?"
            )));
        }
        arrays.drop_array(id)?;
        let left = arrays.maps_of(&path)?;
        if !left.is_empty() {
            return Err(Failure::text(format!(
                "the array from {made_by} was dropped, but the process's mappings still \
                 list the file:\n{}",
                indent(&left.join("\n"))
            )));
        }
    }
    Ok(())
}

/// No file descriptor on the array's file is left open once the array is
/// dropped (whether it is closed right after mmap or on drop).
pub fn no_descriptor_left_open<A: ArrayApi>(arrays: &mut A) -> Result<(), Failure> {
    let dir = temp_dir()?;
    let path = dir.path().join("closed.mem");
    for made_by in MAKERS {
        let id = make(arrays, made_by, &path)?;
        arrays.drop_array(id)?;
        let open = arrays.descriptors_on(&path)?;
        if !open.is_empty() {
            return Err(Failure::text(format!(
                "the array from {made_by} was dropped, but the process still has file \
                 descriptor(s) {open:?} open on the file: every open needs a close"
            )));
        }
    }
    Ok(())
}
