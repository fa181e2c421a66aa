//! The fence of a crashed in-process emulator: once raised, that instance's leftover tasks
//! write nothing more to the data directory, which a new emulator may already have recovered.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when an emulator crashed (in-process): its leftover tasks must not touch the disk
/// that a new emulator may already have recovered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fence(Arc<AtomicBool>);

impl Fence {
    /// Stops all later writes.
    pub(crate) fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether writes are stopped.
    pub(crate) fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// An error if writes are stopped.
    pub(crate) fn check(&self) -> io::Result<()> {
        if self.is_raised() {
            return Err(io::Error::other("the emulator has stopped (crashed)"));
        }
        Ok(())
    }
}
