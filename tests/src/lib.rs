//! Test support for the workspace integration tests.
//!
//! [`arbitrary_json`] builds `proptest` strategies that produce JSON documents conforming to
//! any type of a resolved spec (its IR), so that property tests can check that arbitrary
//! values of the generated types round-trip through Dropbox's wire format.

pub mod arbitrary_json;
pub mod compile_checks;
