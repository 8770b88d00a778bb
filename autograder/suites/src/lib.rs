//! heaplab's autograder suites: one module per lesson, plus what the
//! allocator lessons share (the instrumented page source, the model-based
//! operation sequences, the heap checker and the heap picture).
//!
//! The grader links a lesson's suite with the student's crate into a harness
//! binary ([`harness::main`]) and runs every test in its own process.

pub mod alloc;
pub mod cases;
pub mod checker;
pub mod debug;
pub mod fixtures;
pub mod free_list;
pub mod harness;
pub mod outside;
pub mod own_pages;
pub mod remote;

pub mod lesson1;
pub mod lesson2;
pub mod lesson3;
pub mod lesson4;
pub mod lesson5;
pub mod lesson6;
pub mod lesson7;
pub mod lesson8;

pub mod trace;
