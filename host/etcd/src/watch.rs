//! A document's changes, from an etcd watch on its key.

use std::time::Duration;

use confine_store::{BackendWatch, Result};
use etcd_client::WatchStream;

use std::sync::Arc;

use crate::Shared;
use crate::connection::io_error;

pub(crate) struct EtcdWatch {
    pub(crate) shared: Arc<Shared>,
    pub(crate) name: String,
    pub(crate) stream: WatchStream,
}

impl EtcdWatch {
    /// Opens the watch and waits until etcd has created it, so that every change from the
    /// moment this returns is reported.
    pub(crate) fn open(shared: Arc<Shared>, name: &str, key: String) -> Result<EtcdWatch> {
        let conn = &shared.connection;
        let mut client = conn.watch.clone();
        let mut stream = conn.call(name, "etcd watch", conn.timeout, async move { client.watch(key, None).await })?;
        let created = conn.call(name, "etcd watch", conn.timeout, stream.message())?;
        match created {
            Some(response) if response.created() && !response.canceled() => {}
            _ => {
                return Err(io_error(
                    name,
                    "etcd watch",
                    std::io::ErrorKind::Other,
                    "etcd did not create the watch".into(),
                ));
            }
        }
        Ok(EtcdWatch { name: name.to_owned(), stream, shared })
    }
}

impl BackendWatch for EtcdWatch {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let conn = &self.shared.connection;
        let message = conn.runtime.block_on(async { tokio::time::timeout(timeout, self.stream.message()).await });
        match message {
            Err(_elapsed) => Ok(false),
            Ok(Ok(Some(response))) if !response.canceled() => Ok(true),
            Ok(Ok(Some(response))) => Err(io_error(
                &self.name,
                "etcd watch",
                std::io::ErrorKind::Other,
                format!("etcd at {} ended the watch: {}", conn.endpoints, response.cancel_reason()),
            )),
            Ok(Ok(None)) => Err(io_error(
                &self.name,
                "etcd watch",
                std::io::ErrorKind::NotConnected,
                format!("etcd at {} closed the watch", conn.endpoints),
            )),
            Ok(Err(e)) => Err(conn.failure(&self.name, "etcd watch", &e)),
        }
    }
}

impl std::fmt::Debug for EtcdWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EtcdWatch({})", self.name)
    }
}
