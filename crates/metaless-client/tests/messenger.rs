//! `Messenger` over a real local testnet (HTTP on loopback): the quickstart flow with asserts,
//! and the typed errors of a messenger that cannot start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use metaless_client::{ClientError, Event, Messenger, MessengerError};
use metaless_identity::Seed;

/// The handle moves into spawned tasks and threads.
#[test]
fn handle_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    fn send_future<F: std::future::Future + Send>(_: F) {}
    check::<Messenger>();
    fn builder_is_send<T: Send>() {}
    builder_is_send::<metaless_client::MessengerBuilder>();
    builder_is_send::<metaless_client::Events>();
    // The futures of `build` and `send` are `Send` too (so `tokio::spawn` takes them).
    if false {
        let m: Messenger = unreachable_messenger();
        send_future(m.send("05", "x"));
        send_future(Messenger::builder().build());
    }
}

fn unreachable_messenger() -> Messenger {
    unreachable!()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn two_messengers_one_message() {
    rt().block_on(async {
        let t0 = Instant::now();
        let net = metaless_node_server::local::start(8).await.unwrap();
        let build = || {
            Messenger::builder()
                .testnet(net.bootstrap_path())
                .poll_interval_ms(200)
                .ready_timeout(Duration::from_secs(20))
                .build()
        };
        let alice = build().await.unwrap();
        let bob = build().await.unwrap();
        eprintln!("ready after {:?}", t0.elapsed());
        assert_ne!(alice.session_id(), bob.session_id());
        let mut inbox = bob.events();

        // From a spawned task, through a clone, by the recipient's text.
        let (from_task, to) = (alice.clone(), bob.session_id().to_string());
        let hash = tokio::spawn(async move { from_task.send(to.as_str(), "Hello, Bob!").await })
            .await
            .unwrap()
            .unwrap();
        eprintln!("delivered after {:?}", t0.elapsed());

        let got = tokio::time::timeout(Duration::from_secs(20), inbox.next_message())
            .await
            .expect("Bob received nothing within 20 s")
            .unwrap();
        eprintln!("received after {:?}", t0.elapsed());
        assert_eq!(got.hash, hash);
        assert_eq!(got.message.content.as_text(), Some("Hello, Bob!"));
        assert_eq!(got.message.sender, alice.session_id());

        // Alice's own stream opened late: it starts with what happened before (paths built,
        // the delivery), nothing dropped.
        let mut alice_events = alice.events();
        let mut saw_path = false;
        loop {
            let e = tokio::time::timeout(Duration::from_secs(5), alice_events.next())
                .await
                .expect("the backlog ends with the delivery")
                .unwrap();
            saw_path |= matches!(e, Event::PathRebuilt { .. });
            if let Event::Delivered { hash: h, .. } = e {
                assert_eq!(h, hash);
                break;
            }
        }
        assert!(
            saw_path,
            "the paths built before the stream opened are in its backlog"
        );

        // A recipient that is no Session ID is refused before anything is sent.
        assert!(matches!(
            alice.send("05nothex", "x").await,
            Err(MessengerError::InvalidRecipient { .. })
        ));
        // A Session ID, but no standard (05) one: an unblinded Ed25519 (00) id.
        let ed = metaless_identity::Keypair::from_seed(&Seed::from_bytes([5; 32])).ed25519_public();
        let blinded = format!("00{}", metaless_identity::hex::encode(&ed));
        let r = alice.send(blinded.as_str(), "x").await;
        assert!(
            matches!(
                r,
                Err(MessengerError::Client(ClientError::InvalidRecipient))
            ),
            "{r:?}"
        );

        let t = Instant::now();
        alice.shutdown().await;
        eprintln!("alice shut down in {:?}", t.elapsed());
        assert!(matches!(
            alice.send(&bob.session_id(), "after shutdown").await,
            Err(MessengerError::Closed)
        ));
        // Her streams end.
        assert!(alice_events.next().await.is_none());
        bob.shutdown().await;
        let t = Instant::now();
        net.shutdown().await;
        eprintln!("testnet shut down in {:?}", t.elapsed());
    });
}

#[cfg(feature = "sqlite")]
#[test]
fn a_store_keeps_the_account() {
    use metaless_client::{SeedProtection, StoreKey};
    rt().block_on(async {
        let net = metaless_node_server::local::start(4).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("alice.db");
        let key = || SeedProtection::Key(StoreKey::from_bytes([3; 32]));
        let open = |seed: Option<Seed>| {
            let b = Messenger::builder()
                .testnet(net.bootstrap_path())
                .store(&db, key())
                .ready_timeout(Duration::from_secs(20));
            match seed {
                Some(s) => b.seed(s),
                None => b,
            }
            .build()
        };
        let first = open(None).await.unwrap();
        let id = first.session_id();
        first.shutdown().await;
        let again = open(None).await.unwrap();
        assert_eq!(again.session_id(), id, "the stored seed is the account");
        again.shutdown().await;
        // Another seed for the same store is refused.
        let other = open(Some(Seed::from_bytes([9; 32]))).await;
        assert!(
            matches!(other, Err(MessengerError::SeedMismatch)),
            "{other:?}"
        );
        // The wrong store key is a store error.
        let wrong = Messenger::builder()
            .testnet(net.bootstrap_path())
            .store(&db, SeedProtection::Key(StoreKey::from_bytes([4; 32])))
            .build()
            .await;
        assert!(matches!(wrong, Err(MessengerError::Store(_))), "{wrong:?}");
        net.shutdown().await;
    });
}

#[test]
fn unreadable_and_invalid_bootstrap_files() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("bootstrap.json");
        let e = Messenger::builder().testnet(&missing).build().await.unwrap_err();
        match &e {
            MessengerError::BootstrapUnreadable { path, source } => {
                assert_eq!(path, &missing);
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("start a testnet first"), "{e}");

        for (bad, why) in [
            (&b"not json"[..], "not JSON"),
            (br#"{"version":1,"nodes":[]}"#, "no nodes"),
            (
                br#"{"version":1,"nodes":[{"pubkey_ed25519":"zz","swarm_id":1,"ip":"127.0.0.1","port":1}]}"#,
                "pubkey_ed25519",
            ),
        ] {
            std::fs::write(&missing, bad).unwrap();
            let e = Messenger::builder().testnet(&missing).build().await.unwrap_err();
            assert!(
                matches!(&e, MessengerError::BootstrapInvalid { source: ClientError::Bootstrap(t), .. } if t.contains(why)),
                "{e:?}"
            );
        }
        let e = Messenger::builder().build().await.unwrap_err();
        assert!(matches!(e, MessengerError::NoNetwork));
    });
}

#[test]
fn unreachable_network_is_a_typed_error_within_the_ready_timeout() {
    rt().block_on(async {
        // A port nobody listens on.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);

        let seeds = vec![format!("http://127.0.0.1:{port}")];
        let t = Instant::now();
        let e = Messenger::builder()
            .config(metaless_client::Config::testnet(
                metaless_client::Bootstrap::Seeds(seeds.clone()),
            ))
            .ready_timeout(Duration::from_millis(1_500))
            .build()
            .await
            .unwrap_err();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        match e {
            MessengerError::NoSeedReachable {
                seeds: tried,
                waited_ms,
            } => {
                assert_eq!(tried, seeds);
                assert!(waited_ms >= 1_500);
            }
            other => panic!("{other:?}"),
        }

        // A bootstrap.json whose testnet is gone: nodes known, none answers.
        let net = metaless_node_server::local::start(4).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join("bootstrap.json");
        std::fs::copy(net.bootstrap_path(), &stale).unwrap();
        net.shutdown().await;
        let e = Messenger::builder()
            .testnet(&stale)
            .ready_timeout(Duration::from_millis(1_500))
            .build()
            .await
            .unwrap_err();
        assert!(
            matches!(e, MessengerError::NoNodeReachable { nodes: 4, .. }),
            "{e:?}"
        );
        assert!(e.to_string().contains("still running"), "{e}");
    });
}

/// A seed that shows a certificate other than the pinned one: refused, and said so.
#[test]
fn a_seed_with_the_wrong_certificate_is_refused() {
    use metaless_client::http::{
        HttpTransport, MAINNET_SEED_CERTIFICATES, SeedTrust, pem_certificate_der,
    };
    use metaless_node_server::config::TestnetConfig;
    use metaless_node_server::testnet::{Testnet, TestnetOptions};
    rt().block_on(async {
        let mut rng = rand_core::OsRng;
        let cfg = TestnetConfig::generate(6, 2, 0, &mut rng);
        let tls = TestnetOptions {
            tls: true,
            ..Default::default()
        };
        let net = Testnet::start(cfg, tls).await.unwrap();
        // The node answers /json_rpc like a seed, over TLS with its self-signed certificate.
        let seed = net.url(0).unwrap();
        let pinned = SeedTrust::Pinned(vec![
            pem_certificate_der(MAINNET_SEED_CERTIFICATES[0]).unwrap(),
        ]);
        let config = metaless_client::Config::testnet(metaless_client::Bootstrap::Seeds(vec![
            seed.clone(),
        ]))
        .with_https(true);
        let e = Messenger::builder()
            .config(config.clone())
            .transport(HttpTransport::with_seed_trust(pinned))
            .ready_timeout(Duration::from_millis(1_500))
            .build()
            .await
            .unwrap_err();
        assert!(
            matches!(&e, MessengerError::CertificateRefused { seeds } if seeds == &vec![seed.clone()]),
            "{e:?}"
        );
        // The same seed trusted (loopback, the default trust): the messenger gets ready.
        let ok = Messenger::builder()
            .config(config)
            .ready_timeout(Duration::from_secs(20))
            .build()
            .await
            .unwrap();
        ok.shutdown().await;
        net.shutdown().await;
    });
}

/// Without polling (`poll_interval_ms: None`) the messenger still gets ready: it asks for one
/// poll of the own swarm.
#[test]
fn ready_without_polling() {
    rt().block_on(async {
        let net = metaless_node_server::local::start(4).await.unwrap();
        let file = std::fs::read(net.bootstrap_path()).unwrap();
        let config = metaless_client::Config::from_testnet_file(&file)
            .unwrap()
            .with_poll_interval_ms(None);
        let m = Messenger::builder()
            .config(config)
            .ready_timeout(Duration::from_secs(20))
            .build()
            .await
            .unwrap();
        m.shutdown().await;
        net.shutdown().await;
    });
}

/// A transport that never gets an answer: whatever it says decides the error.
struct Failing(metaless_client::TransportError);

impl metaless_client::Transport for Failing {
    async fn post(
        &self,
        _: &metaless_client::Transmit,
    ) -> Result<metaless_client::HttpResponse, metaless_client::TransportError> {
        Err(self.0.clone())
    }
}

/// `.mainnet()` with a transport that cannot reach the seeds (no live network is touched):
/// the live seeds are named in the error.
#[test]
fn mainnet_without_a_network_names_its_seeds() {
    use metaless_client::{MAINNET_SEEDS, TransportError};
    rt().block_on(async {
        let build = |e: TransportError| {
            Messenger::builder()
                .mainnet()
                .transport(Failing(e))
                .ready_timeout(Duration::from_millis(800))
                .build()
        };
        match build(TransportError::Connect).await {
            Err(MessengerError::NoSeedReachable { seeds, .. }) => {
                assert_eq!(seeds, MAINNET_SEEDS.map(String::from).to_vec());
            }
            other => panic!("{other:?}"),
        }
        match build(TransportError::Certificate).await {
            Err(MessengerError::CertificateRefused { seeds }) => assert_eq!(seeds.len(), 3),
            other => panic!("{other:?}"),
        }
    });
}
