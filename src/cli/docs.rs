//! Shell completions and the man page, generated from the clap definition
//! the parser uses, so they cannot drift from it.

use std::io::Write;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut impl Write) {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "verskew", out);
}

/// The man page (roff) of `verskew`: options, every command, examples.
pub fn man(out: &mut impl Write) -> std::io::Result<()> {
    clap_mangen::Man::new(Cli::command()).render(out)
}
