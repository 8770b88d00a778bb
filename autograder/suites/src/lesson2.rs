//! Lesson 2's suite.
