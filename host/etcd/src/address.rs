//! Where a store on etcd lives: `etcd://HOST:PORT[,HOST:PORT...]/PREFIX`.

use std::fmt;

/// A parsed `etcd://` address: the cluster's endpoints and the prefix of the store's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// `host:port` of each member to talk to, in the order given.
    pub endpoints: Vec<String>,
    /// The prefix every key of the store starts with: `/` and the path given, with no
    /// trailing `/` (`/myapp`), or empty for the whole keyspace.
    pub prefix: String,
    /// A user and password for etcd's authentication, from `etcd://USER:PASSWORD@...`.
    pub user: Option<(String, String)>,
}

impl Address {
    /// Parses `etcd://HOST:PORT[,HOST:PORT...][/PREFIX]`, with `USER:PASSWORD@` before the
    /// endpoints where the cluster has authentication on.
    ///
    /// # Errors
    /// A message that says what is wrong with the address and what one looks like.
    pub fn parse(text: &str) -> Result<Address, String> {
        let shape = "an etcd store is etcd://HOST:PORT[,HOST:PORT...]/PREFIX, e.g. etcd://127.0.0.1:2379/myapp";
        let rest = text.strip_prefix("etcd://").ok_or_else(|| format!("{text:?} is not an etcd address: {shape}"))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hosts) = match authority.rsplit_once('@') {
            Some((user, hosts)) => {
                let (name, password) =
                    user.split_once(':').ok_or_else(|| format!("{text:?}: a user is given as USER:PASSWORD@"))?;
                (Some((name.to_owned(), password.to_owned())), hosts)
            }
            None => (None, authority),
        };
        let mut endpoints = Vec::new();
        for endpoint in hosts.split(',') {
            let port = endpoint.rsplit_once(':').map(|(host, port)| (host, port.parse::<u16>()));
            match port {
                Some((host, Ok(_))) if !host.is_empty() => endpoints.push(endpoint.to_owned()),
                _ => return Err(format!("{text:?}: {endpoint:?} is not HOST:PORT; {shape}")),
            }
        }
        let path = path.trim_end_matches('/');
        if path.split('/').any(|part| part == "." || part == "..") || path.contains("//") || path.contains('\0') {
            return Err(format!("{text:?}: the prefix {path:?} may not hold `.`, `..`, `//` or NUL; {shape}"));
        }
        let prefix = if path.is_empty() { String::new() } else { format!("/{path}") };
        Ok(Address { endpoints, prefix, user })
    }
}

impl fmt::Display for Address {
    /// The address without its password, as errors name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self.user.as_ref().map_or_else(String::new, |(name, _)| format!("{name}@"));
        write!(f, "etcd://{user}{}{}", self.endpoints.join(","), self.prefix)
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
        assert_eq!(a.to_string(), "etcd://127.0.0.1:2379,10.0.0.2:2379/myapp/prod");
        assert_eq!(Address::parse("etcd://h:1").expect("parses").prefix, "");
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
        ] {
            let e = Address::parse(bad).expect_err(bad);
            assert!(e.contains(bad), "{e}");
        }
    }
}
