//! Lesson 3's suite.
