//! The hotels' PMSs: the QloApps adapter, the built-in simulator, and what stands between them
//! and the rest of conserje (circuit breaker, bulkhead, availability cache).

pub mod breaker;
pub mod bulkhead;
pub mod cache;
pub mod guarded;
pub mod qloapps;
pub mod router;
pub mod simulator;
