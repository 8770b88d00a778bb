//! Your small blocks: however your design finds room for them in constant time.
