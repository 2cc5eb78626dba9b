//! `gradphoto`: the server and its admin commands.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
