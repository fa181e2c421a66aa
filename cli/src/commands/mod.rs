//! One module per command family.

pub mod demo;
pub mod files;
pub mod link;
pub mod login;
pub mod serve;
pub mod upload;
