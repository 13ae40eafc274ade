//! The project README, compiled here so that its example is a doc test.
#![doc = include_str!("../README.md")]
