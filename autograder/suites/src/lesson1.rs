//! Lesson 1's suite.
