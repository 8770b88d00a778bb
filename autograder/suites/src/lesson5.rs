//! Lesson 5's suite.
