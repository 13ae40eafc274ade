//! Field types beyond the scalars: QEMU timers, pointers, queues and trees.

mod gtree;
mod pointer;
mod queue;
mod timer;

pub use gtree::GtreeKey;
pub use queue::{load_queue, save_queue, Queue};
pub use timer::Timer;

pub use gtree::{load_gtree, save_gtree};
