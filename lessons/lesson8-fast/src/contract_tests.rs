//! (The reference solution's tests of its heap live here; write your own.)
