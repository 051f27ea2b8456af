//! Route tests: the real router and filters in-process (warp::test), over
//! a fake engine. The black-box tests against the real daemon live in
//! `tests/it/`.

pub(crate) mod fake;
mod routes_admin;
mod routes_auth;
mod routes_read;
