//! The karajo engine as a library: configuration, schedules, the job engine
//! and its transports. The `karajod` binary is a thin shell over this.

pub mod config;
pub mod engine;
pub mod schedule;
