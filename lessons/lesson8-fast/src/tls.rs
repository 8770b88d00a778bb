//! How your threads find their own data, if your design has per-thread data.
