//! karajoctl's one integration-test binary: the real binary against the
//! real karajod (`daemon`, `logs`), with no daemon (`without_daemon`), and
//! against a stand-in (`with_fake`) only for answers karajod never gives.
//!
//! The karajod tests need `target/debug/karajod`: build it first with
//! `cargo build -p karajod`, or point `KARAJOD_BIN` at a binary.

mod cacert;
mod daemon;
mod fake;
mod harness;
mod karajod;
mod logs;
mod operating;
mod runs;
mod tls;
mod upcoming;
mod with_fake;
mod without_daemon;
