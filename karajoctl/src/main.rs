//! karajoctl: the admin CLI of karajod. Commands arrive with the CLI issue.

fn main() {
    eprintln!("karajoctl: not yet implemented");
    std::process::exit(2);
}
