//! Certificates the etcds:// tests make for themselves, in a temporary directory: a CA, the
//! members' certificate (for 127.0.0.1 and localhost, used for clients and peers), a client
//! certificate whose common name is the etcd user `root`, and the wrong ones the error
//! tests need. Nothing here is ever committed.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd};

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub(crate) struct Pair {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

/// Every file the TLS tests use.
pub(crate) struct Certs {
    /// The CA that signed the members' and the client's certificates.
    pub(crate) ca: PathBuf,
    /// The members' certificate: 127.0.0.1 and localhost.
    pub(crate) member: Pair,
    /// A client certificate with the common name `root`.
    pub(crate) client: Pair,
    /// A client certificate with the common name `nobody` (no such etcd user).
    pub(crate) stranger: Pair,
    /// Another CA, which signed nothing the members know.
    pub(crate) other_ca: PathBuf,
    /// A client certificate `root` signed by the other CA: refused by the members.
    pub(crate) foreign_client: Pair,
    /// A member certificate valid only for `elsewhere.invalid`.
    pub(crate) misnamed_member: Pair,
    /// A member certificate for 127.0.0.1 that expired in 2001.
    pub(crate) expired_member: Pair,
    _dir: tempfile::TempDir,
}

impl Certs {
    pub(crate) fn make() -> Certs {
        let dir = tempfile::tempdir().expect("certificates directory");
        let path = dir.path().to_owned();
        let ca = issuer("confine test CA");
        let other = issuer("another CA");
        let ca_pem = write(&path, "ca.pem", &ca.pem());
        let other_pem = write(&path, "other-ca.pem", &other.pem());
        let loopback = || vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        Certs {
            member: leaf(&path, "member", loopback(), "member", &ca, None),
            client: leaf(&path, "client", vec![], "root", &ca, None),
            stranger: leaf(&path, "stranger", vec![], "nobody", &ca, None),
            foreign_client: leaf(&path, "foreign", vec![], "root", &other, None),
            misnamed_member: leaf(&path, "misnamed", vec!["elsewhere.invalid".to_owned()], "member", &ca, None),
            expired_member: leaf(&path, "expired", loopback(), "member", &ca, Some((1999, 2001))),
            ca: ca_pem,
            other_ca: other_pem,
            _dir: dir,
        }
    }
}

fn issuer(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("CA key")).expect("CA certificate")
}

/// A certificate for `names` (DNS names or IP addresses) with the common name `common`,
/// signed by `ca`, valid from and to the given years (else rcgen's default, until 4096).
fn leaf(
    dir: &Path,
    file: &str,
    names: Vec<String>,
    common: &str,
    ca: &CertifiedIssuer<'static, KeyPair>,
    years: Option<(i32, i32)>,
) -> Pair {
    let mut params = CertificateParams::new(names).expect("params");
    params.distinguished_name.push(DnType::CommonName, common);
    if let Some((from, to)) = years {
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(to, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, ca).expect("sign");
    Pair {
        cert: write(dir, &format!("{file}.pem"), &cert.pem()),
        key: write(dir, &format!("{file}-key.pem"), &key.serialize_pem()),
    }
}

fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write a certificate");
    path
}
