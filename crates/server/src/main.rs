//! `gradphoto`: the server and its admin commands.

mod cli;
mod photo_cmd;

fn main() -> std::process::ExitCode {
    cli::main()
}
