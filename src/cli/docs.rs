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

/// The man page (roff) of `verskew` (options, every command, examples), or
/// with `command` the page `verskew-COMMAND(1)` that the first page's
/// SUBCOMMANDS section refers to. `Ok(false)`: no such command.
pub fn man(command: Option<&str>, out: &mut impl Write) -> std::io::Result<bool> {
    let mut top = Cli::command();
    // Built, so each command's page lists the global options too.
    top.build();
    let page = match command {
        None => top,
        Some(name) => match top.find_subcommand(name) {
            Some(sub) => sub
                .clone()
                .name(format!("verskew-{name}"))
                .bin_name(format!("verskew {name}"))
                .version(env!("CARGO_PKG_VERSION")),
            None => return Ok(false),
        },
    };
    clap_mangen::Man::new(page).render(out)?;
    Ok(true)
}
