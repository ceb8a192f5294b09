//! Config sync over the in-process network: a second device with the same seed (a restore from
//! the recovery phrase) picks up the profile and contacts; two devices editing at the same time
//! converge; a push that fails while the network is down is stored later by the timed retry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::{Bootstrap, Client, Config, ConfigEvent, ConfigSync};
use metaless_config::Kind;
use metaless_config::views::Contact;
use metaless_identity::{Keypair, RecoveryPhrase, Seed, SessionId, mnemonic};
use metaless_testnet::loopback::Faults;
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn sim(seed: u64) -> Sim {
    Sim::new(
        LoopbackNet::new(LoopbackConfig {
            nodes: 12,
            swarms: 3,
            seed,
            ..Default::default()
        })
        .unwrap(),
    )
}

fn add(sim: &mut Sim, seed: [u8; 32], rng: u8) -> usize {
    sim.add(move |nodes, now| {
        Client::new(
            Keypair::from_seed(&Seed::from_bytes(seed)),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(3_000)),
            [rng; 32],
            now,
        )
    })
}

/// Feeds every device's events to its ConfigSync until `done` holds (or gives up).
fn drive(
    sim: &mut Sim,
    devs: &mut [(usize, &mut ConfigSync)],
    mut done: impl FnMut(&mut [(usize, &mut ConfigSync)]) -> bool,
) -> bool {
    for _ in 0..300 {
        sim.run_until(2_000, |s| {
            devs.iter().any(|(i, _)| !s.events(*i).is_empty())
        });
        for (i, sync) in devs.iter_mut() {
            let now = sim.client_now(*i);
            for e in sim.take_events(*i) {
                sync.handle_event(sim.client_mut(*i), now, &e);
            }
            // What an app loop does beside the client's own timers (a no-op until one is due).
            if sync.poll_timeout().is_some_and(|t| t <= now) {
                sync.handle_timeout(sim.client_mut(*i), now);
            }
        }
        if done(devs) {
            return true;
        }
    }
    false
}

#[test]
fn second_device_restores_profile_and_contacts() {
    let seed = [0x11; 32];
    // The second device comes from the recovery phrase, as a restore does.
    let phrase = RecoveryPhrase::from_seed(&Seed::from_bytes(seed));
    let restored = mnemonic::to_seed(phrase.expose_secret()).unwrap();
    assert_eq!(restored.expose_secret(), &seed);

    let mut sim = sim(7);
    let a = add(&mut sim, seed, 1);
    let mut sa = ConfigSync::new(&Seed::from_bytes(seed));
    let now = sim.client_now(a);
    sa.start(sim.client_mut(a), now).unwrap();
    sa.set_display_name(sim.client_mut(a), now, "Alice")
        .unwrap();
    let bob = SessionId::standard([0x22; 32]);
    let mut c = Contact::new(bob);
    c.name = Some("Bob".into());
    c.approved = true;
    sa.set_contact(sim.client_mut(a), now, &c).unwrap();
    let mut pushed = Vec::new();
    assert!(drive(&mut sim, &mut [(a, &mut sa)], |d| {
        while let Some(e) = d[0].1.poll_event() {
            if let ConfigEvent::Pushed { kind, .. } = e {
                pushed.push(kind);
            }
        }
        pushed.contains(&Kind::UserProfile) && pushed.contains(&Kind::Contacts)
    }));

    let b = add(&mut sim, *restored.expose_secret(), 2);
    let mut sb = ConfigSync::new(&restored);
    let now = sim.client_now(b);
    sb.start(sim.client_mut(b), now).unwrap();
    assert!(
        drive(&mut sim, &mut [(a, &mut sa), (b, &mut sb)], |d| {
            d[1].1.profile().name.as_deref() == Some("Alice") && d[1].1.contacts().len() == 1
        }),
        "the second device did not pick up the profile and contact"
    );
    assert_eq!(sb.contacts()[0], c);
    assert_eq!(
        sb.config(Kind::Contacts).unwrap().data(),
        sa.config(Kind::Contacts).unwrap().data()
    );
}

#[test]
fn two_devices_editing_at_once_converge() {
    let seed = [0x33; 32];
    let mut sim = sim(9);
    let (a, b) = (add(&mut sim, seed, 3), add(&mut sim, seed, 4));
    let mut sa = ConfigSync::new(&Seed::from_bytes(seed));
    let mut sb = ConfigSync::new(&Seed::from_bytes(seed));
    let now = sim.client_now(a);
    sa.start(sim.client_mut(a), now).unwrap();
    sb.start(sim.client_mut(b), now).unwrap();
    // Both edit before either hears from the other.
    let carol = Contact::new(SessionId::standard([0x44; 32]));
    let dave = Contact::new(SessionId::standard([0x55; 32]));
    sa.set_contact(sim.client_mut(a), now, &carol).unwrap();
    sa.set_display_name(sim.client_mut(a), now, "On A").unwrap();
    sb.set_contact(sim.client_mut(b), now, &dave).unwrap();
    assert!(
        drive(&mut sim, &mut [(a, &mut sa), (b, &mut sb)], |d| {
            let ca = d[0].1.config(Kind::Contacts).unwrap();
            let cb = d[1].1.config(Kind::Contacts).unwrap();
            ca.data() == cb.data()
                && ca
                    .data()
                    .get(&b"c"[..])
                    .and_then(|c| c.as_dict())
                    .is_some_and(|c| c.len() == 2)
                && !ca.needs_push()
                && !cb.needs_push()
                && d[1].1.profile().name.as_deref() == Some("On A")
        }),
        "devices did not converge"
    );
    let ids: Vec<_> = sb.contacts().into_iter().map(|c| c.session_id).collect();
    assert_eq!(ids, vec![carol.session_id, dave.session_id]);
}

#[test]
fn a_push_that_failed_while_the_network_was_down_is_retried_on_a_timer() {
    let seed = [0x33; 32];
    let mut sim = sim(9);
    let a = sim.add(move |nodes, now| {
        Client::new(
            Keypair::from_seed(&Seed::from_bytes(seed)),
            Config::testnet(Bootstrap::Nodes(nodes))
                .with_poll_interval_ms(Some(3_000))
                .with_max_attempts(2),
            [3; 32],
            now,
        )
    });
    let mut sa = ConfigSync::new(&Seed::from_bytes(seed));
    let now = sim.client_now(a);
    sa.start(sim.client_mut(a), now).unwrap();
    // Let the first polls (of an empty account) finish, then cut the network.
    assert!(drive(&mut sim, &mut [(a, &mut sa)], |_| true));
    sim.run_until(5_000, |_| false);
    sim.net.set_faults(Faults {
        drop: 1.0,
        ..Default::default()
    });
    let now = sim.client_now(a);
    sa.set_display_name(sim.client_mut(a), now, "Alice")
        .unwrap();
    let mut failed = false;
    assert!(
        drive(&mut sim, &mut [(a, &mut sa)], |d| {
            while let Some(e) = d[0].1.poll_event() {
                if matches!(
                    e,
                    ConfigEvent::PushFailed {
                        kind: Kind::UserProfile,
                        failure: Some(_)
                    }
                ) {
                    failed = true;
                }
                assert!(
                    !matches!(e, ConfigEvent::Pushed { .. }),
                    "stored with the network down"
                );
            }
            failed
        }),
        "the push did not fail"
    );
    let failed_at = sim.client_now(a);
    let retry = sa.poll_timeout().expect("a timed retry is scheduled");
    assert!(retry > failed_at && retry <= failed_at + ConfigSync::RETRY_BASE_MS);
    // The network is back. Nothing else happens on this account (no edit, no other device's
    // messages): only the timer can bring the push back.
    sim.net.set_faults(Faults::default());
    let mut pushed = false;
    assert!(
        drive(&mut sim, &mut [(a, &mut sa)], |d| {
            while let Some(e) = d[0].1.poll_event() {
                if matches!(
                    e,
                    ConfigEvent::Pushed {
                        kind: Kind::UserProfile,
                        ..
                    }
                ) {
                    pushed = true;
                }
            }
            pushed
        }),
        "the failed push was never retried"
    );
    let pushed_at = sim.client_now(a);
    assert!(pushed_at >= retry, "retried before its back-off");
    assert_eq!(sa.poll_timeout(), None);

    // A restored device reads it.
    let b = add(&mut sim, seed, 4);
    let mut sb = ConfigSync::new(&Seed::from_bytes(seed));
    let now = sim.client_now(b);
    sb.start(sim.client_mut(b), now).unwrap();
    assert!(
        drive(&mut sim, &mut [(a, &mut sa), (b, &mut sb)], |d| {
            d[1].1.profile().name.as_deref() == Some("Alice")
        }),
        "the retried push is not in the swarm"
    );
}
