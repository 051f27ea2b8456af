//! Run history (SPEC 15), against both backends: every test here runs once
//! on a SQLite file and once on a throw-away PostgreSQL server.

mod audit;
mod daemon;
mod faults;
mod store;
