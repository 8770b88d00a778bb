//! Lesson 6's suite.
