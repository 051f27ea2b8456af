//! karajoctl's one integration-test binary: the real binary against a
//! stand-in daemon (`fake`, always) and against the real karajod (`daemon`).
//!
//! The `daemon` tests need `target/debug/karajod`: build it first with
//! `cargo build -p karajod`, or point `KARAJOD_BIN` at a binary.

mod daemon;
mod fake;
mod harness;
mod operating;
mod tls;
mod with_fake;
mod without_daemon;
