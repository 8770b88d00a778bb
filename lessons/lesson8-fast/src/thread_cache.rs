//! Your per-thread caches: how a thread allocates without taking the process heap's lock.
