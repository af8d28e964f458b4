//! The network capability: what a guest may reach.
//!
//! * [`NetPolicy::Deny`] (the default): no network at all. Sockets can be created (that
//!   touches nothing), local socket pairs work, numeric addresses and `localhost` can be
//!   "resolved" (no lookup leaves the host), but every `connect`, `bind`, `listen` and
//!   `sendto`, every lookup of another name and every reverse lookup of a non-loopback
//!   address is refused with `NOTCAPABLE`.
//! * [`NetPolicy::All`] (`--net`): everything.
//! * [`NetPolicy::Allow`] (`--allow-net=HOST[:PORT],...`): `connect`/`sendto` to, and
//!   `bind` on, the listed hosts (and ports, if given); lookups of the listed names. A name
//!   in the list allows the addresses it resolves to: resolved by the host on first use, and
//!   every address the guest's own lookups of that name return.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// One `--allow-net` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    /// The host.
    pub host: AllowHost,
    /// The port, or any port.
    pub port: Option<u16>,
}

/// The host part of an [`AllowEntry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowHost {
    /// An address (`0.0.0.0`/`::` allow binding the wildcard address).
    Ip(IpAddr),
    /// A host name (lower case, without a trailing dot).
    Name(String),
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (AllowHost::Ip(IpAddr::V6(ip)), Some(p)) => write!(f, "[{ip}]:{p}"),
            (AllowHost::Ip(ip), Some(p)) => write!(f, "{ip}:{p}"),
            (AllowHost::Ip(ip), None) => write!(f, "{ip}"),
            (AllowHost::Name(n), Some(p)) => write!(f, "{n}:{p}"),
            (AllowHost::Name(n), None) => write!(f, "{n}"),
        }
    }
}

impl AllowEntry {
    /// Parses `HOST[:PORT]`: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`, `[::1]:80`,
    /// `example.com`, `example.com:443`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid --allow-net entry '{spec}': {why}");
        let spec_t = spec.trim();
        if spec_t.is_empty() {
            return Err(bad("empty"));
        }
        let (host, port) = if let Some(rest) = spec_t.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
            match after {
                "" => (h, None),
                _ => match after.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None => return Err(bad("expected ':PORT' after ']'")),
                },
            }
        } else if spec_t.matches(':').count() > 1 {
            (spec_t, None) // a bare IPv6 address
        } else {
            match spec_t.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (spec_t, None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(bad("the port must be 1-65535")),
                Ok(n) => Some(n),
            },
        };
        let host = if let Ok(ip) = host.parse::<IpAddr>() {
            AllowHost::Ip(ip.to_canonical())
        } else {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            let valid = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !valid {
                return Err(bad("not an IP address or host name"));
            }
            AllowHost::Name(name)
        };
        Ok(AllowEntry { host, port })
    }

    /// Parses a comma-separated list.
    pub fn parse_list(spec: &str) -> Result<Vec<Self>, String> {
        spec.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Self::parse)
            .collect()
    }
}

/// What network access a guest has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NetPolicy {
    /// No network (the default).
    #[default]
    Deny,
    /// Everything (`--net`).
    All,
    /// Only these hosts and ports (`--allow-net=...`).
    Allow(Vec<AllowEntry>),
}

impl NetPolicy {
    /// Whether the guest has any network access (decides what `gethostname` reveals).
    pub fn any(&self) -> bool {
        match self {
            NetPolicy::Deny => false,
            NetPolicy::All => true,
            NetPolicy::Allow(list) => !list.is_empty(),
        }
    }

    /// Adds `--allow-net` entries (turning `Deny` into an allow-list; `All` stays `All`).
    pub fn allow(&mut self, entries: impl IntoIterator<Item = AllowEntry>) {
        match self {
            NetPolicy::All => {}
            NetPolicy::Deny => *self = NetPolicy::Allow(entries.into_iter().collect()),
            NetPolicy::Allow(list) => list.extend(entries),
        }
    }
}

/// A [`NetPolicy`] at run time, with the addresses allow-listed names resolved to.
#[derive(Debug, Default)]
pub struct Checker {
    policy: NetPolicy,
    /// Name → addresses (host lookups on first use plus what the guest's lookups returned).
    names: HashMap<String, Vec<IpAddr>>,
}

fn norm_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

fn is_localhost(name: &str) -> bool {
    let n = norm_name(name);
    n == "localhost" || n.ends_with(".localhost")
}

impl Checker {
    /// A checker for `policy`.
    pub fn new(policy: NetPolicy) -> Self {
        Self {
            policy,
            names: HashMap::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &NetPolicy {
        &self.policy
    }

    fn addresses_of(&mut self, name: &str) -> &[IpAddr] {
        self.names.entry(name.to_owned()).or_insert_with(|| {
            (name, 0)
                .to_socket_addrs()
                .map(|it| it.map(|a| a.ip().to_canonical()).collect())
                .unwrap_or_default()
        })
    }

    fn host_matches(&mut self, host: &AllowHost, ip: IpAddr) -> bool {
        match host {
            AllowHost::Ip(allowed) => *allowed == ip,
            AllowHost::Name(name) => {
                if is_localhost(name) && ip.is_loopback() {
                    return true;
                }
                let name = name.clone();
                self.addresses_of(&name).contains(&ip)
            }
        }
    }

    fn matches(&mut self, addr: SocketAddr, any_port: bool) -> bool {
        let entries = match &self.policy {
            NetPolicy::All => return true,
            NetPolicy::Deny => return false,
            NetPolicy::Allow(list) => list.clone(),
        };
        let ip = addr.ip().to_canonical();
        entries.iter().any(|e| {
            (any_port || e.port.is_none_or(|p| p == addr.port())) && self.host_matches(&e.host, ip)
        })
    }

    /// May the guest connect (or send datagrams) to `addr`?
    pub fn may_connect(&mut self, addr: SocketAddr) -> bool {
        self.matches(addr, false)
    }

    /// May the guest bind to `addr`? Port 0 (any free port) is allowed on every listed
    /// host; the wildcard address only if it is listed itself.
    pub fn may_bind(&mut self, addr: SocketAddr) -> bool {
        self.matches(addr, addr.port() == 0)
    }

    /// May the guest look up `name`? Numeric addresses and `localhost` always (no lookup
    /// leaves the host); other names with `--net` or when listed.
    pub fn may_resolve(&self, name: &str) -> bool {
        let bare = name.split('%').next().unwrap_or(name);
        if bare.parse::<IpAddr>().is_ok() || is_localhost(name) {
            return true;
        }
        match &self.policy {
            NetPolicy::All => true,
            NetPolicy::Deny => false,
            NetPolicy::Allow(list) => {
                let n = norm_name(name);
                list.iter()
                    .any(|e| matches!(&e.host, AllowHost::Name(h) if *h == n))
            }
        }
    }

    /// Records what a permitted lookup of `name` returned, so that connecting to those
    /// addresses is allowed for an allow-listed name.
    pub fn learn(&mut self, name: &str, addrs: impl IntoIterator<Item = IpAddr>) {
        if !matches!(self.policy, NetPolicy::Allow(_)) {
            return;
        }
        let n = norm_name(name);
        let listed = match &self.policy {
            NetPolicy::Allow(list) => list
                .iter()
                .any(|e| matches!(&e.host, AllowHost::Name(h) if *h == n)),
            _ => false,
        };
        if listed {
            let known = self.names.entry(n).or_default();
            for a in addrs {
                let a = a.to_canonical();
                if !known.contains(&a) {
                    known.push(a);
                }
            }
        }
    }

    /// May the guest look up the name of `ip` (a reverse lookup)? Loopback always; others
    /// with `--net` or when the address is allowed.
    pub fn may_reverse(&mut self, ip: IpAddr) -> bool {
        ip.is_loopback() || self.matches(SocketAddr::new(ip, 0), true)
    }

    /// Whether the guest has any network access.
    pub fn any(&self) -> bool {
        self.policy.any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn entries_parse() {
        let e = AllowEntry::parse("127.0.0.1:8080").unwrap();
        assert_eq!(e.host, AllowHost::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(e.port, Some(8080));
        assert_eq!(e.to_string(), "127.0.0.1:8080");
        let e = AllowEntry::parse("[::1]:53").unwrap();
        assert_eq!(e.host, AllowHost::Ip("::1".parse().unwrap()));
        assert_eq!(e.to_string(), "[::1]:53");
        assert_eq!(AllowEntry::parse("::1").unwrap().port, None);
        let e = AllowEntry::parse("Example.COM.").unwrap();
        assert_eq!(e.host, AllowHost::Name("example.com".into()));
        assert!(AllowEntry::parse("a:0").is_err());
        assert!(AllowEntry::parse("a:99999").is_err());
        assert!(AllowEntry::parse("[::1").is_err());
        assert!(AllowEntry::parse("bad host").is_err());
        assert_eq!(AllowEntry::parse_list("a, b:1 ,").unwrap().len(), 2);
    }

    #[test]
    fn deny_all_and_allow_all() {
        let mut c = Checker::new(NetPolicy::Deny);
        assert!(!c.may_connect(sa("127.0.0.1:80")));
        assert!(!c.may_bind(sa("127.0.0.1:0")));
        assert!(c.may_resolve("127.0.0.1") && c.may_resolve("localhost"));
        assert!(!c.may_resolve("example.com"));
        assert!(c.may_reverse("127.0.0.1".parse().unwrap()));
        assert!(!c.may_reverse("10.0.0.1".parse().unwrap()));
        assert!(!c.any());
        let mut c = Checker::new(NetPolicy::All);
        assert!(c.may_connect(sa("10.1.2.3:80")) && c.may_resolve("example.com") && c.any());
    }

    #[test]
    fn allow_list_ports_hosts_and_names() {
        let mut p = NetPolicy::Deny;
        p.allow(
            AllowEntry::parse_list("127.0.0.1:8080,10.0.0.1,localhost:9,example.test").unwrap(),
        );
        let mut c = Checker::new(p);
        assert!(c.may_connect(sa("127.0.0.1:8080")));
        assert!(!c.may_connect(sa("127.0.0.1:8081")));
        assert!(c.may_connect(sa("[::ffff:127.0.0.1]:8080")), "v4-mapped");
        assert!(c.may_connect(sa("10.0.0.1:1")));
        assert!(c.may_connect(sa("[::1]:9")), "localhost matches loopback");
        assert!(!c.may_connect(sa("[::1]:10")));
        assert!(
            c.may_bind(sa("127.0.0.1:0")),
            "any free port on a listed host"
        );
        assert!(
            !c.may_bind(sa("0.0.0.0:8080")),
            "the wildcard must be listed"
        );
        assert!(c.may_resolve("EXAMPLE.test."));
        assert!(!c.may_resolve("other.test"));
        assert!(!c.may_connect(sa("192.0.2.7:80")));
        c.learn("example.test", ["192.0.2.7".parse().unwrap()]);
        assert!(
            c.may_connect(sa("192.0.2.7:80")),
            "learned from the guest's lookup"
        );
        c.learn("other.test", ["192.0.2.8".parse().unwrap()]);
        assert!(
            !c.may_connect(sa("192.0.2.8:80")),
            "only listed names teach addresses"
        );
    }
}
