//! Configuration: git-config INI files in, one validated [`Config`] out.
//!
//! Parsing (`ini`) is kept apart from validation (`load` and the section
//! readers), and [`Config`] is a plain value, so code can build one too.

mod access;
pub mod alert;
mod alert_model;
mod check;
mod description;
pub mod diag;
pub mod duration;
mod exec;
mod fields;
pub mod ini;
mod job;
mod load;
pub mod model;
mod notif;
mod retry;
mod server;
pub mod validate;
mod webhook;

pub use access::{glob_match, token_hash};
pub use diag::{ConfigErrors, Diagnostic, render_capped};
pub use exec::{EnvVar, Exec, RunAs};
pub use job::{normalise_path, parse_header};
pub use load::{Loaded, load, load_then, load_with_env};
pub use model::*;
pub use retry::{CatchUp, CatchUpMode, Cause, Retry, RetryFor};
pub use server::{generate_secret, parse_listen_address};
pub use validate::{Invalid, validate};

#[cfg(test)]
mod tests;
