//! The karajo engine as a library: configuration, schedules, the job engine
//! and its transports. The `karajod` binary is a thin shell over this.

pub mod app;
pub mod auth;
pub mod check;
pub mod checks;
pub mod cli;
pub mod config;
pub mod control;
pub mod engine;
pub mod http;
pub mod library;
pub mod notify;
pub mod priority;
pub mod reload;
pub mod schedule;
pub mod sd;
pub mod serve;
pub mod store;
pub mod tls;
