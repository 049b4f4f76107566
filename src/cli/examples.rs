//! The examples `--help` shows under each command (clap `after_help`); the
//! man page and this help come from the same definition.

pub const TOP: &str = "\
Examples:
  verskew diagnose disk.img                     why IIS services fail to start
  verskew versions disk.E01 '\\WINNT\\system32\\inetsrv'
  verskew rules lockstep-mismatch               what a rule checks
  verskew completions bash > /etc/bash_completion.d/verskew

Exit status: 0 every image evaluated, no finding at or above --fail-on; 1 at least one such finding; 2 an image could not be analysed at all, or bad arguments; 3 an image was read but not (or, with --fail-on uncovered, not fully) evaluated.
Images are opened read-only and never modified.";

pub const DIAGNOSE: &str = "\
Examples:
  verskew diagnose disk.img
  verskew diagnose --format json --fail-on warning a.E01 b.vmdk
  verskew diagnose --quiet --output report.txt disk.img
  verskew diagnose --rules site.toml disk.vhd
  verskew diagnose --format html --output report.html a.E01 b.vmdk
  verskew diagnose --format bodyfile disk.img >> case.body   (then mactime -b case.body)
  verskew diagnose --format sarif --output verskew.sarif images/*.E01
  verskew diagnose --format json --jobs 4 /evidence/ 'backups/*.E01' > fleet.jsonl

Exit status: 0 every image evaluated and no finding at or above --fail-on; 1 at least one such finding; 2 an image could not be analysed; 3 not (fully) evaluated.";

pub const FLEET: &str = "\
Examples:
  verskew diagnose --format json /evidence/ > fleet.jsonl
  verskew fleet fleet.jsonl
  verskew fleet --format html --output fleet.html fleet.jsonl
  verskew diagnose --format json /evidence/ | verskew fleet -

Exit status: 0 every file agrees within each Windows release; 1 some file's versions disagree; 2 a report could not be read, or none was given; 3 lines were skipped or images were not analysed.";

pub const VERSIONS: &str = "\
Examples:
  verskew versions disk.img                                every <root>\\system32\\inetsrv
  verskew versions disk.img '\\WINNT\\system32\\inetsrv'        one folder's PE files
  verskew versions disk.img '**\\inetsrv\\*.dll' --format csv
  verskew versions disk.img --all --format tsv > census.tsv";

pub const INFO: &str = "\
Examples:
  verskew info disk.E01
  verskew info --verify --format json disk.E01";

pub const RULES: &str = "\
Examples:
  verskew rules
  verskew rules lockstep-mismatch
  verskew rules --format json";

pub const COMPLETIONS: &str = "\
Examples:
  verskew completions bash > ~/.local/share/bash-completion/completions/verskew
  verskew completions zsh > ~/.zfunc/_verskew
  verskew completions fish > ~/.config/fish/completions/verskew.fish
  verskew completions powershell >> $PROFILE";

pub const MAN: &str = "\
Examples:
  verskew man > verskew.1 && man ./verskew.1
  verskew man diagnose > verskew-diagnose.1";
