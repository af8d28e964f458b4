//! The options both kinds of `wasmi-py run` share (what the guest may reach), and the
//! small pieces of argument parsing they have in common.

use std::io::Write;
use std::process::ExitCode;

use wasmi_py_socket::{AllowEntry, NetPolicy};

use crate::run::{LOAD_FAILURE_STATUS, USAGE_STATUS};

/// Writes to stderr, ignoring failure (`eprintln!` would panic on a closed stderr).
pub(crate) fn report(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// Reports that the module or script cannot be run at all (unreadable, invalid,
/// unlinkable): the exit status of both kinds of `run` for that.
pub(crate) fn load_failure(message: impl std::fmt::Display) -> ExitCode {
    report(format_args!("wasmi-py run: {message}"));
    ExitCode::from(LOAD_FAILURE_STATUS)
}

pub(crate) fn usage_error(message: &str) -> ExitCode {
    report(format_args!(
        "wasmi-py run: {message}\n\nRun `wasmi-py run --help` for usage."
    ));
    ExitCode::from(USAGE_STATUS)
}

/// Parses `HOST[::GUEST][:ro]`.
pub fn parse_dir(spec: &str) -> Result<(String, String, bool), String> {
    let (rest, read_only) = match spec.strip_suffix(":ro") {
        Some(rest) => (rest, true),
        None => (spec, false),
    };
    let (host, guest) = match rest.split_once("::") {
        Some((host, guest)) => (host, guest),
        None => (rest, rest),
    };
    if host.is_empty() || guest.is_empty() {
        return Err(format!(
            "invalid --dir '{spec}': expected HOST[::GUEST][:ro]"
        ));
    }
    Ok((host.to_owned(), guest.to_owned(), read_only))
}

/// Applies `--net` (`spec` must be `None`) or `--allow-net=SPEC` to `net`.
pub fn parse_net_flag(net: &mut NetPolicy, flag: &str, spec: Option<&str>) -> Result<(), String> {
    match (flag, spec) {
        ("--net", None) => {
            *net = NetPolicy::All;
            Ok(())
        }
        ("--net", Some(_)) => Err("--net takes no value (use --allow-net=HOST[:PORT],...)".into()),
        (_, Some(spec)) => {
            let entries = AllowEntry::parse_list(spec)?;
            if entries.is_empty() {
                return Err("--allow-net needs at least one HOST[:PORT]".into());
            }
            net.allow(entries);
            Ok(())
        }
        (_, None) => Err("--allow-net needs a value".into()),
    }
}

/// Splits `--flag=value` into the flag and its inline value.
pub(crate) fn split_flag(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
        _ => (arg, None),
    }
}

/// The value of `flag`: inline (`--flag=v`) or the next argument (advancing `i`).
pub(crate) fn flag_value(
    args: &[String],
    i: &mut usize,
    flag: &str,
    inline: Option<&str>,
) -> Result<String, ExitCode> {
    if let Some(v) = inline {
        return Ok(v.to_owned());
    }
    *i += 1;
    args.get(*i)
        .cloned()
        .ok_or_else(|| usage_error(&format!("{flag} needs a value")))
}

/// One `--profile` sample per this many calls and loop iterations (see
/// `Store::start_profile`).
pub(crate) const PROFILE_INTERVAL: u64 = 1000;

/// Writes `profile` to `path` (folded stacks) and its top functions to stderr; a failure
/// to write is reported, not fatal.
pub(crate) fn write_profile(path: &std::path::Path, profile: Option<wasmi_py_core::Profile>) {
    let Some(profile) = profile else {
        return;
    };
    let written = std::fs::File::create(path).and_then(|f| {
        let mut out = std::io::BufWriter::new(f);
        profile.write_folded(&mut out)?;
        std::io::Write::flush(&mut out)
    });
    if let Err(e) = written {
        report(format_args!(
            "cannot write the profile to {}: {e}",
            path.display()
        ));
        return;
    }
    let total = profile.total();
    let mut text = format!(
        "wasmi-py: profile of {:.1} ms written to {} (folded stacks); top functions:\n \
         self ms  self %  total %  function\n",
        total.as_secs_f64() * 1e3,
        path.display()
    );
    let pct = |d: std::time::Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-9);
    for f in profile.functions().iter().take(15) {
        text += &format!(
            "{:>8.1} {:>6.1}% {:>7.1}%  {}\n",
            f.self_time.as_secs_f64() * 1e3,
            pct(f.self_time),
            pct(f.total_time),
            f.name
        );
    }
    eprint!("{text}");
}

/// Directories, environment and network the guest is given.
#[derive(Debug, Default)]
pub(crate) struct Sandbox {
    pub(crate) dirs: Vec<(String, String, bool)>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) inherit_env: bool,
    pub(crate) net: NetPolicy,
    /// `--no-code-cache`: translate everything, read and write no code cache. (Not a
    /// sandbox matter, but an option of both run paths like the others.)
    pub(crate) no_code_cache: bool,
    /// `--profile FILE`: profile the guest, write its stacks to FILE (likewise shared).
    pub(crate) profile: Option<std::path::PathBuf>,
}

impl Sandbox {
    /// The code cache directory to use, if any (see `--no-code-cache`).
    pub(crate) fn code_cache(&self) -> Option<std::path::PathBuf> {
        if self.no_code_cache {
            return None;
        }
        wasmi_py_cpython::code_cache_dir()
    }

    /// Parses the option at `args[*i]` if it is one of `--dir`, `--env`, `--inherit-env`,
    /// `--net`, `--allow-net`, `--no-code-cache`, `--profile` (advancing `i` past a separate value);
    /// `Ok(false)` if it is not one of them.
    pub(crate) fn parse_option(
        &mut self,
        args: &[String],
        i: &mut usize,
    ) -> Result<bool, ExitCode> {
        let (flag, inline) = split_flag(&args[*i]);
        match flag {
            "--dir" => {
                let spec = flag_value(args, i, flag, inline)?;
                self.dirs
                    .push(parse_dir(&spec).map_err(|e| usage_error(&e))?);
            }
            "--env" => {
                let spec = flag_value(args, i, flag, inline)?;
                match spec.split_once('=') {
                    Some((k, v)) if !k.is_empty() => self.env.push((k.to_owned(), v.to_owned())),
                    Some(_) => return Err(usage_error(&format!("invalid --env '{spec}'"))),
                    None => {
                        if let Ok(v) = std::env::var(&spec) {
                            self.env.push((spec, v));
                        }
                    }
                }
            }
            "--inherit-env" if inline.is_none() => self.inherit_env = true,
            "--no-code-cache" if inline.is_none() => self.no_code_cache = true,
            "--profile" => self.profile = Some(flag_value(args, i, flag, inline)?.into()),
            "--net" => parse_net_flag(&mut self.net, flag, inline).map_err(|e| usage_error(&e))?,
            "--allow-net" => {
                let spec = flag_value(args, i, flag, inline)?;
                parse_net_flag(&mut self.net, flag, Some(&spec)).map_err(|e| usage_error(&e))?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        assert_eq!(parse_dir("a"), Ok(("a".into(), "a".into(), false)));
        assert_eq!(parse_dir("a::/b"), Ok(("a".into(), "/b".into(), false)));
        assert_eq!(parse_dir("a::/b:ro"), Ok(("a".into(), "/b".into(), true)));
        assert_eq!(parse_dir("/x:ro"), Ok(("/x".into(), "/x".into(), true)));
        assert!(parse_dir("::/b").is_err());
        assert!(parse_dir("a::").is_err());
    }

    #[test]
    fn shared_options_are_parsed_once_for_both_runs() {
        let args: Vec<String> = ["--dir=a::/b:ro", "--env", "K=V", "--net", "x.py"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut sandbox = Sandbox::default();
        let mut i = 0;
        while sandbox.parse_option(&args, &mut i).unwrap() {
            i += 1;
        }
        assert_eq!(args[i], "x.py");
        assert_eq!(sandbox.dirs, [("a".into(), "/b".into(), true)]);
        assert_eq!(sandbox.env, [("K".into(), "V".into())]);
        assert!(parse_net_flag(&mut NetPolicy::Deny, "--net", Some("x")).is_err());
    }
}
