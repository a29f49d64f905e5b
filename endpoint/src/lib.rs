//! The OpenAI-compatible endpoint pieces that `collect` and `judge` share: the one retry policy
//! both HTTP clients follow ([`retry`]) and the one in-process fake server their demos, tests
//! and benchmarks talk to (`fake`, behind the feature of that name). Each client keeps its own
//! request format, settings and defaults; only what they must agree on lives here.

#[cfg(feature = "fake")]
pub mod fake;
pub mod retry;

pub use retry::{Failure, RetryPolicy};
