//! Lost answers: a loopback proxy between confine and a real etcd drops the next answer
//! etcd sends, at random moments, and closes the connection, as a member dying or a
//! network cut after the request arrived would. Whatever call lost its answer (a lease
//! grant, a lock, a read, a commit), confine must say "done" only if it was done, "not
//! done" only if it was not, and otherwise that the outcome is unknown: the count at the
//! end tells.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use confine_etcd::{Address, Etcd, EtcdOptions};
use confine_store::{Options, Repository};

use super::Cluster;
use super::proxy::Proxy;
use crate::support::figure;

#[derive(Default)]
struct Seen {
    acknowledged: AtomicUsize,
    not_made: AtomicUsize,
    unknown: AtomicUsize,
    other: AtomicUsize,
}

#[test]
fn a_lost_answer_is_never_reported_as_done_or_not_done_wrongly() {
    const WRITERS: usize = 4;
    const UPDATES: usize = 40;
    let cluster = Cluster::start(1);
    let direct = Address::parse(&cluster.url("lost")).expect("address");
    let plain = Repository::with_backend(
        Etcd::connect(&direct, EtcdOptions::default()).expect("connect"),
        Options::default(),
        confine::Documents::default(),
    );
    plain.save("count.json", r#"{"n": 0}"#, None).expect("create");
    let proxy = Proxy::start(&cluster.members[0].endpoint);
    let through = Address::parse(&format!("etcd://{}/lost", proxy.endpoint)).expect("address");
    let options = EtcdOptions {
        lease_ttl: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        ..EtcdOptions::default()
    };
    let seen = Seen::default();
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                // Each writer its own connection, so a cut hits one of them.
                let etcd = Etcd::connect(&through, options.clone()).expect("connect through the proxy");
                let repository = Repository::with_backend(
                    etcd,
                    Options::default().with_lock_timeout(Duration::from_secs(20)),
                    confine::Documents::default(),
                );
                let seen = &seen;
                s.spawn(move || {
                    for _ in 0..UPDATES {
                        let outcome = repository.update("count.json", |current| {
                            let value: serde_json::Value =
                                serde_json::from_str(current.unwrap_or("{}")).map_err(|e| e.to_string())?;
                            Ok::<_, String>(format!("{{\"n\": {}}}", value["n"].as_u64().unwrap_or(0) + 1))
                        });
                        let counter = match outcome {
                            Ok(Ok(_)) => &seen.acknowledged,
                            Ok(Err(refused)) => panic!("the change refused: {refused}"),
                            Err(e) if e.to_string().contains("outcome is unknown") => {
                                eprintln!("lost answers: {e}");
                                &seen.unknown
                            }
                            Err(e) if e.to_string().contains("was not made") => &seen.not_made,
                            Err(e) => {
                                eprintln!("lost answers: {e}");
                                &seen.other
                            }
                        };
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        s.spawn(|| {
            let mut turn = 0u64;
            while !done.load(Ordering::SeqCst) {
                // Irregular gaps, so the cuts fall on every kind of call.
                thread::sleep(Duration::from_millis(40 + (turn * 37) % 110));
                proxy.cut.store(true, Ordering::SeqCst);
                turn += 1;
            }
        });
        for writer in writers {
            writer.join().expect("writer");
        }
        done.store(true, Ordering::SeqCst);
    });
    let total: u64 = serde_json::from_str::<serde_json::Value>(&plain.read("count.json").expect("read").content)
        .expect("json")["n"]
        .as_u64()
        .expect("n");
    let (acknowledged, unknown) =
        (seen.acknowledged.load(Ordering::SeqCst) as u64, seen.unknown.load(Ordering::SeqCst) as u64);
    let cuts = proxy.cuts.load(Ordering::SeqCst);
    assert!(cuts > 10, "only {cuts} answers were dropped");
    assert!(
        (acknowledged..=acknowledged + unknown).contains(&total),
        "count {total}, acknowledged {acknowledged}, unknown {unknown}"
    );
    figure(
        "etcd-lost-answers",
        &format!(
            "{} updates by {WRITERS} writers through a proxy that dropped {cuts} of etcd's answers: {acknowledged} acknowledged, all present (count {total}); {} reported not made, {unknown} outcome unknown, {} other errors",
            WRITERS * UPDATES,
            seen.not_made.load(Ordering::SeqCst),
            seen.other.load(Ordering::SeqCst)
        ),
    );
}
