//! Lesson 4's suite.
