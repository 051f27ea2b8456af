//! The real karajod: filled in when the API and engine land on main.
