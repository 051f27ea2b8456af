//! filled with issue 2
