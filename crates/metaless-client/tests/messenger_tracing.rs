//! The `tracing` events a `Messenger` emits at its decisions, caught by a minimal subscriber
//! (its own test binary: the subscriber is process-wide, the messenger's thread is its own).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

use metaless_client::{Messenger, MessengerError};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Keeps the `message` of every event.
struct Collect;

struct Message(Option<String>);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl Subscriber for Collect {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = Message(None);
        event.record(&mut m);
        if let Some(text) = m.0 {
            SEEN.lock().unwrap().push(text);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn seen(what: &str) -> bool {
    SEEN.lock().unwrap().iter().any(|m| m == what)
}

#[test]
fn decisions_are_traced() {
    tracing::subscriber::set_global_default(Collect).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let net = metaless_node_server::local::start(8).await.unwrap();
        let build = || {
            Messenger::builder()
                .testnet(net.bootstrap_path())
                .ready_timeout(Duration::from_secs(20))
                .build()
        };
        let (alice, bob) = (build().await.unwrap(), build().await.unwrap());
        alice.send(&bob.session_id(), "traced").await.unwrap();
        for what in [
            "bootstrap loaded",
            "path built",
            "messenger ready",
            "send delivered",
        ] {
            assert!(
                seen(what),
                "no {what:?} event in {:?}",
                SEEN.lock().unwrap()
            );
        }
        assert!(
            !seen("node blacklisted"),
            "a healthy testnet blacklists no node"
        );
        alice.shutdown().await;
        bob.shutdown().await;
        assert!(seen("messenger shut down"));

        // Its nodes gone, the bootstrap file still names them: they fail and are blacklisted.
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("bootstrap.json");
        std::fs::copy(net.bootstrap_path(), &stale).unwrap();
        net.shutdown().await;
        let e = Messenger::builder()
            .testnet(&stale)
            .ready_timeout(Duration::from_secs(3))
            .build()
            .await
            .unwrap_err();
        assert!(matches!(e, MessengerError::NoNodeReachable { .. }), "{e:?}");
        assert!(seen("node blacklisted"), "{:?}", SEEN.lock().unwrap());
        assert!(seen("messenger not ready"));
    });
}
