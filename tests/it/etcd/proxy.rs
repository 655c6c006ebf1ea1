//! A loopback proxy in front of an etcd member that can cut a connection at the next
//! answer, as a member dying or a network cut after a request arrived would: for the lost
//! answers of writes (`lost_answers`) and the watch that resumes (`tls`). It forwards
//! bytes, so TLS passes through it unchanged.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// Forwards loopback connections to `target`; while `cut` is set, the next answer from
/// `target` is dropped and the connection closed (the request has gone through).
pub(crate) struct Proxy {
    pub(crate) endpoint: String,
    pub(crate) cut: Arc<AtomicBool>,
    pub(crate) cuts: Arc<AtomicUsize>,
}

impl Proxy {
    pub(crate) fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let endpoint = listener.local_addr().expect("proxy address").to_string();
        let (cut, cuts) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let (target, cut_flag, cut_count) = (target.to_owned(), cut.clone(), cuts.clone());
        // Lives as long as the test binary; it only ever talks to loopback.
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&target) else { continue };
                let (up_from, up_to) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                thread::spawn(move || copy(up_from, up_to, None));
                let cut = (cut_flag.clone(), cut_count.clone());
                thread::spawn(move || copy(server, client, Some(cut)));
            }
        });
        Proxy { endpoint, cut, cuts }
    }
}

/// Copies `from` to `to` until either closes; with `cut`, drops the first chunk read while
/// it is set and closes both.
fn copy(mut from: TcpStream, mut to: TcpStream, cut: Option<(Arc<AtomicBool>, Arc<AtomicUsize>)>) {
    let mut buffer = [0u8; 64 << 10];
    while let Ok(n @ 1..) = from.read(&mut buffer) {
        if let Some((flag, count)) = &cut
            && flag.swap(false, Ordering::SeqCst)
        {
            count.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
