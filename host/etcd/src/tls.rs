//! TLS to etcd (`etcds://`): the files that configure it, and what a failed handshake means
//! in words a person can act on.
//!
//! The transport is `etcd-client`'s own (tonic over rustls with the `ring` provider): no
//! OpenSSL to install, and the server is verified as rustls and webpki verify it, against
//! the given CA or else the system's roots.

use std::io;
use std::path::{Path, PathBuf};

use etcd_client::{Certificate, Identity, TlsOptions};

/// The files of a TLS connection to etcd, as `etcdctl --cacert --cert --key` takes them
/// (PEM). All optional: with none, the server is verified against the system's roots and
/// no client certificate is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA that signed the members' certificates; `None`: the system's roots.
    pub ca_cert: Option<PathBuf>,
    /// A client certificate to present (mutual TLS), with its key in `client_key`. Where
    /// the cluster runs with `--client-cert-auth` and authentication on, its common name is
    /// the etcd user.
    pub client_cert: Option<PathBuf>,
    /// The private key of `client_cert`.
    pub client_key: Option<PathBuf>,
}

impl TlsFiles {
    /// Whether any file is named.
    pub fn is_empty(&self) -> bool {
        self.ca_cert.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }
}

/// The client's TLS configuration from `files`, each file read now so that a missing or
/// unreadable one is named at once.
pub(crate) fn config(files: &TlsFiles) -> io::Result<TlsOptions> {
    let mut tls = TlsOptions::new();
    tls = match &files.ca_cert {
        Some(path) => tls.ca_certificate(Certificate::from_pem(read_pem(path, "CA certificate", "CERTIFICATE")?)),
        None => tls.with_native_roots(),
    };
    match (&files.client_cert, &files.client_key) {
        (Some(cert), Some(key)) => {
            let cert = read_pem(cert, "client certificate", "CERTIFICATE")?;
            let key = read_pem(key, "client key", "PRIVATE KEY")?;
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a client certificate needs its key: give both --etcd-cert and --etcd-key",
            ));
        }
    }
    Ok(tls)
}

/// The bytes of the PEM file at `path`, the `what` of the connection, which must hold a
/// block whose label ends with `label`. The error names the file, never its content.
fn read_pem(path: &Path, what: &str, label: &str) -> io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read the {what} {}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&bytes);
    let holds = text.lines().any(|line| line.starts_with("-----BEGIN ") && line.ends_with(&format!("{label}-----")));
    if !holds {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the {what} {} holds no PEM block `-----BEGIN ...{label}-----`", path.display()),
        ));
    }
    Ok(bytes)
}

/// How the client spoke: plain text, or TLS with or without a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spoke {
    Plain,
    Tls { identity: bool },
}

/// What a failure to reach an endpoint means, from the transport's causes (`detail`): the
/// words for a person, and the kind of error. `None` for a cause that is not about TLS.
pub(crate) fn explain(detail: &str, spoke: Spoke) -> Option<(io::ErrorKind, &'static str)> {
    let tls = spoke != Spoke::Plain;
    // A server that wants a client certificate and got none answers with an alert that
    // says little (Go's: BadCertificate); whether one was shown says which it was.
    let client_refused = has_alert(
        detail,
        &["BadCertificate", "CertificateRequired", "UnknownCA", "CertificateUnknown", "HandshakeFailure"],
    );
    use io::ErrorKind::{InvalidData, PermissionDenied};
    let has = |needle: &str| detail.contains(needle);
    let words = if has("UnknownIssuer") || has("UnknownCA") && !has("alert:") {
        (
            PermissionDenied,
            "TLS: the server's certificate is not signed by a CA confine trusts (give the cluster's CA with --etcd-cacert or CONFINE_ETCD_CACERT)",
        )
    } else if has("NotValidForName") || has("not valid for name") {
        (PermissionDenied, "TLS: the server's certificate is not valid for the name or address confine reached it by")
    } else if has("Expired") || has("expired") {
        (PermissionDenied, "TLS: the server's certificate has expired")
    } else if has("NotValidYet") {
        (PermissionDenied, "TLS: the server's certificate is not valid yet (check the clocks)")
    } else if client_refused && spoke == (Spoke::Tls { identity: false }) {
        (PermissionDenied, "TLS: the server requires a client certificate (give one with --etcd-cert and --etcd-key)")
    } else if client_refused && tls {
        (PermissionDenied, "TLS: the server refused the client certificate (not signed by a CA it trusts, or expired)")
    } else if tls && (has("InvalidContentType") || has("corrupt message") || has("HandshakeNotComplete")) {
        (InvalidData, "TLS: the endpoint does not speak TLS (use etcd://, not etcds://)")
    } else if tls && has("tls handshake eof") {
        (
            InvalidData,
            "TLS: the endpoint closed the connection in the handshake: it does not speak TLS (use etcd://, not etcds://) or refused it",
        )
    } else if !tls && (has("frame with invalid size") || has("FRAME_SIZE_ERROR") || has("invalid HTTP version")) {
        (InvalidData, "the endpoint speaks TLS (use etcds://, not etcd://)")
    } else {
        return None;
    };
    Some(words)
}

/// Whether `detail` says the server sent a fatal alert of one of `kinds`.
fn has_alert(detail: &str, kinds: &[&str]) -> bool {
    detail.split("received fatal alert: ").skip(1).any(|rest| kinds.iter().any(|kind| rest.starts_with(kind)))
}

#[cfg(test)]
mod tests {
    use super::{Spoke, TlsFiles, config, explain};

    #[test]
    fn rustls_causes_become_words() {
        for (detail, words) in [
            ("invalid peer certificate: UnknownIssuer", "not signed by a CA confine trusts"),
            ("invalid peer certificate: NotValidForName", "not valid for the name"),
            ("invalid peer certificate: Expired", "has expired"),
            ("received fatal alert: BadCertificate", "refused the client certificate"),
            ("received fatal alert: UnknownCA", "refused the client certificate"),
            ("received corrupt message of type InvalidContentType", "does not speak TLS"),
            ("transport error: tls handshake eof", "does not speak TLS"),
        ] {
            let (_, said) = explain(detail, Spoke::Tls { identity: true }).expect(detail);
            assert!(said.contains(words), "{detail}: {said}");
        }
        // Without a certificate of its own, the same alert means one is required.
        let (_, said) = explain("received fatal alert: BadCertificate", Spoke::Tls { identity: false }).expect("alert");
        assert!(said.contains("requires a client certificate"), "{said}");
        assert!(explain("connection refused", Spoke::Tls { identity: true }).is_none());
    }

    #[test]
    fn a_missing_file_is_named_and_a_key_needs_its_certificate() {
        let missing = TlsFiles { ca_cert: Some("/nonexistent/ca.pem".into()), ..TlsFiles::default() };
        let e = config(&missing).expect_err("missing").to_string();
        assert!(e.contains("CA certificate /nonexistent/ca.pem"), "{e}");
        let half = TlsFiles { client_key: Some("/k.pem".into()), ..TlsFiles::default() };
        assert!(config(&half).expect_err("half").to_string().contains("--etcd-cert and --etcd-key"));
    }

    #[test]
    fn a_file_of_the_wrong_kind_is_named_without_its_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "-----BEGIN CERTIFICATE-----\nc2VjcmV0\n-----END CERTIFICATE-----\n").expect("write");
        let files = TlsFiles { client_cert: Some(key.clone()), client_key: Some(key.clone()), ..TlsFiles::default() };
        let e = config(&files).expect_err("a certificate is no key").to_string();
        assert!(e.contains("client key") && e.contains("PRIVATE KEY") && !e.contains("c2VjcmV0"), "{e}");
    }
}
