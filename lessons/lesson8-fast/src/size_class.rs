//! Your size classes, if your design has them (docs/lesson8.md, "The design space").
