//! Where a store on etcd lives: `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`, or `etcds://...`
//! for the same over TLS.

use std::fmt;

/// A parsed `etcd://` or `etcds://` address: the cluster's endpoints, whether they speak
/// TLS, and the prefix of the store's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Whether every endpoint is spoken to over TLS (`etcds://`).
    pub tls: bool,
    /// `host:port` of each member to talk to, in the order given.
    pub endpoints: Vec<String>,
    /// The prefix every key of the store starts with: `/` and the path given, with no
    /// trailing `/` (`/myapp`), or empty for the whole keyspace.
    pub prefix: String,
    /// A user and password for etcd's authentication, from `etcd://USER:PASSWORD@...`.
    pub user: Option<(String, String)>,
}

impl Address {
    /// Parses `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]` (plain text) or `etcds://...`
    /// (TLS), with `USER:PASSWORD@` before the endpoints where the cluster has
    /// authentication on.
    ///
    /// # Errors
    /// A message that says what is wrong with the address and what one looks like.
    pub fn parse(text: &str) -> Result<Address, String> {
        let shape = "an etcd store is etcd://HOST:PORT[,HOST:PORT...]/PREFIX, e.g. etcd://127.0.0.1:2379/myapp \
                     (etcds://... for TLS)";
        let (tls, rest) = match (text.strip_prefix("etcds://"), text.strip_prefix("etcd://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => return Err(format!("{:?} is not an etcd address: {shape}", shown(text))),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => {
                let (name, password) = user
                    .split_once(':')
                    .ok_or_else(|| format!("{:?}: a user is given as USER:PASSWORD@", shown(text)))?;
                (Some((name.to_owned(), password.to_owned())), hosts)
            }
            None => (None, authority),
        };
        let mut endpoints = Vec::new();
        for endpoint in hosts.split(',') {
            let port = endpoint.rsplit_once(':').map(|(host, port)| (host, port.parse::<u16>()));
            match port {
                Some((host, Ok(_))) if !host.is_empty() => endpoints.push(endpoint.to_owned()),
                _ => return Err(format!("{:?}: {endpoint:?} is not HOST:PORT; {shape}", shown(text))),
            }
        }
        let path = path.trim_end_matches('/');
        if path.split('/').any(|part| part == "." || part == "..") || path.contains("//") || path.contains('\0') {
            return Err(format!("{:?}: the prefix {path:?} may not hold `.`, `..`, `//` or NUL; {shape}", shown(text)));
        }
        let prefix = if path.is_empty() { String::new() } else { format!("/{path}") };
        Ok(Address { tls, endpoints, prefix, user })
    }
}

impl fmt::Display for Address {
    /// The address without its password, as errors name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.user.as_ref().map_or_else(String::new, |(name, _)| format!("{name}@"));
        let scheme = if self.tls { "etcds" } else { "etcd" };
        write!(f, "{scheme}://{user}{}{}", self.endpoints.join(","), self.prefix)
    }
}

/// An address as an error may show it: any password in it replaced by `***`.
fn shown(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user, hosts)) => {
            let name = user.split_once(':').map_or(user, |(name, _)| name);
            let password = if user.contains(':') { ":***" } else { "" };
            format!("{scheme}://{name}{password}@{hosts}{}", &rest[authority_end..])
        }
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::Address;

    #[test]
    fn endpoints_and_prefix() {
        let a = Address::parse("etcd://127.0.0.1:2379,10.0.0.2:2379/myapp/prod/").expect("parses");
        assert_eq!(a.endpoints, ["127.0.0.1:2379", "10.0.0.2:2379"]);
        assert_eq!(a.prefix, "/myapp/prod");
        assert_eq!(a.user, None);
        assert!(!a.tls);
        assert_eq!(a.to_string(), "etcd://127.0.0.1:2379,10.0.0.2:2379/myapp/prod");
        assert_eq!(Address::parse("etcd://h:1").expect("parses").prefix, "");
    }

    #[test]
    fn etcds_is_the_same_over_tls() {
        let a = Address::parse("etcds://u:pw@a:2379,b:2379/p").expect("parses");
        assert!(a.tls);
        assert_eq!(a.endpoints, ["a:2379", "b:2379"]);
        assert_eq!(a.to_string(), "etcds://u@a:2379,b:2379/p");
    }

    #[test]
    fn a_bad_address_never_shows_its_password() {
        for bad in ["etcd://root:s3cret@h/p", "etcds://root:s3cret@h:x/p", "etcd://root:s3cret@h:1/a/../b"] {
            let e = Address::parse(bad).expect_err(bad);
            assert!(!e.contains("s3cret"), "{e}");
            assert!(e.contains("root:***@"), "{e}");
        }
    }

    #[test]
    fn a_user_is_parsed_and_its_password_never_shown() {
        let a = Address::parse("etcd://root:s3cret@h:2379/p").expect("parses");
        assert_eq!(a.user, Some(("root".into(), "s3cret".into())));
        assert_eq!(a.to_string(), "etcd://root@h:2379/p");
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        for bad in [
            "http://h:1/p",
            "etcd://",
            "etcd://h/p",
            "etcd://h:port/p",
            "etcd://:1/p",
            "etcd://h:1/a/../b",
            "etcd://h:1/a//b",
            "etcd://u@h:1/p",
            "etcds://h/p",
        ] {
            let e = Address::parse(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }
}
