//! `sqlx::migrate!` reads the migration folders at compile time, and cargo
//! does not know it: without this, a new migration file leaves a build
//! that still lacks it (and fails on a database that has it).
fn main() {
    println!("cargo:rerun-if-changed=src/store/history/migrations");
}
