//! karajod's integration tests: the real binary, a temp dir_base, a
//! loopback port, real HTTP. One binary; one module per area.

mod harness;

mod access;
mod alerts;
mod api;
mod auth;
mod catch_up;
mod check;
mod checks;
mod daemon;
mod dashboard;
mod exec;
mod faults;
mod history;
mod holes;
mod jobs;
mod library;
mod notify;
mod operating;
mod overlap;
mod pages;
mod postgres;
mod process;
mod recovery;
mod reload;
mod retry;
mod schedules;
mod socket;
mod tls;
mod token_reads;
mod tool;
mod webhook;
