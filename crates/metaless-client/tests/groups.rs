//! Groups v2 over the in-process network: Alice creates a group with Bob and Carol, both accept
//! the one-to-one invitation, messages go each way through the group's swarm (members signing
//! with their sub-account tokens), Alice removes Carol (a new key, her token revoked), and Carol
//! can neither fetch nor read what follows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use metaless_client::{
    Bootstrap, Client, Config, ConfigSync, Event, FailureKind, GroupEvent, Groups, GroupsError,
    OpId,
};
use metaless_envelope::{Content, GroupUpdate, Message};
use metaless_group::{GroupError, GroupId, GroupKeys, Permissions, make_invite};
use metaless_identity::{Keypair, Seed};
use metaless_swarm::{MessageHash, Namespace};
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

fn add(sim: &mut Sim, seed: [u8; 32]) -> usize {
    sim.add(move |nodes, now| {
        Client::new(
            Keypair::from_seed(&Seed::from_bytes(seed)),
            Config::testnet(Bootstrap::Nodes(nodes)).with_poll_interval_ms(Some(2_000)),
            [seed[0]; 32],
            now,
        )
    })
}

struct Dev {
    i: usize,
    groups: Groups,
    seen: Vec<GroupEvent>,
    other: Vec<Event>,
    /// Hashes of the group messages (namespace 11) this client fetched from the swarm.
    fetched: Vec<MessageHash>,
    /// Operations the client confirmed done (`Event::Done`, whether or not the groups layer
    /// took it).
    done: Vec<OpId>,
}

fn dev(sim: &mut Sim, seed: [u8; 32]) -> Dev {
    let i = add(sim, seed);
    Dev {
        i,
        groups: Groups::new(&Seed::from_bytes(seed), [seed[0] ^ 0x55; 32]),
        seen: Vec::new(),
        other: Vec::new(),
        fetched: Vec::new(),
        done: Vec::new(),
    }
}

/// Runs the network, feeding each client's events to its groups layer, until `done` holds.
fn drive(sim: &mut Sim, devs: &mut [&mut Dev], mut done: impl FnMut(&[&mut Dev]) -> bool) -> bool {
    for _ in 0..400 {
        sim.run_until(1_000, |s| devs.iter().any(|d| !s.events(d.i).is_empty()));
        for d in devs.iter_mut() {
            let now = sim.client_now(d.i);
            for e in sim.take_events(d.i) {
                if let Event::SwarmMessages {
                    namespace: Namespace::GroupMessages,
                    messages,
                    ..
                } = &e
                {
                    d.fetched.extend(messages.iter().map(|m| m.hash.clone()));
                }
                if let Event::Done { id } = &e {
                    d.done.push(*id);
                }
                if !d.groups.handle_event(sim.client_mut(d.i), now, &e) {
                    d.other.push(e);
                }
            }
            while let Some(e) = d.groups.poll_event() {
                d.seen.push(e);
            }
        }
        if done(devs) {
            return true;
        }
    }
    false
}

fn texts(d: &Dev) -> Vec<String> {
    d.seen
        .iter()
        .filter_map(|e| match e {
            GroupEvent::Message(m) => m.content.as_text().map(str::to_owned),
            _ => None,
        })
        .collect()
}

fn has(d: &Dev, f: impl Fn(&GroupEvent) -> bool) -> bool {
    d.seen.iter().any(f)
}

fn send(sim: &mut Sim, d: &mut Dev, g: &GroupId, text: &str) {
    let now = sim.client_now(d.i);
    d.groups
        .send(sim.client_mut(d.i), now, g, &Content::text(text))
        .unwrap();
}

#[test]
fn three_members_talk_and_a_removed_member_cannot_read() {
    let mut sim = sim(21);
    let mut alice = dev(&mut sim, [0xa1; 32]);
    let mut bob = dev(&mut sim, [0xb2; 32]);
    let mut carol = dev(&mut sim, [0xc3; 32]);
    let (bob_id, carol_id) = (
        sim.client(bob.i).session_id(),
        sim.client(carol.i).session_id(),
    );

    let now = sim.client_now(alice.i);
    let g = alice
        .groups
        .create(sim.client_mut(alice.i), now, "Trio", &[bob_id, carol_id])
        .unwrap();

    // Invitations arrive one-to-one; both accept.
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            d[1].groups.invitations().len() == 1 && d[2].groups.invitations().len() == 1
        }),
        "invitations did not arrive"
    );
    assert_eq!(bob.groups.invitations(), vec![(g, "Trio".to_owned())]);
    for d in [&mut bob, &mut carol] {
        let now = sim.client_now(d.i);
        d.groups.accept(sim.client_mut(d.i), now, &g).unwrap();
    }
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            d[1].groups.is_synced(&g) && d[2].groups.is_synced(&g)
        }),
        "members did not read the keys"
    );
    assert!(has(
        &bob,
        |e| matches!(e, GroupEvent::Joined { group } if *group == g)
    ));

    // One message each way.
    send(&mut sim, &mut alice, &g, "hello from Alice");
    send(&mut sim, &mut bob, &g, "hello from Bob");
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            texts(d[0]).contains(&"hello from Bob".to_owned())
                && texts(d[1]).contains(&"hello from Alice".to_owned())
                && texts(d[2]).contains(&"hello from Alice".to_owned())
                && texts(d[2]).contains(&"hello from Bob".to_owned())
        }),
        "group messages did not get through: alice {:?} bob {:?} carol {:?}",
        texts(&alice),
        texts(&bob),
        texts(&carol)
    );
    let from_bob = alice
        .seen
        .iter()
        .find_map(|e| match e {
            GroupEvent::Message(m) if m.content.as_text() == Some("hello from Bob") => {
                Some(m.sender)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(from_bob, bob_id);
    // The admin saw both invite responses and the members list shows them accepted.
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            d[0].groups
                .members(&g)
                .iter()
                .all(|m| m.invite_status.is_none())
        }),
        "invite responses not recorded"
    );
    assert_eq!(bob.groups.name(&g).as_deref(), Some("Trio"));

    // Alice removes Carol: a new generation without her, and her token revoked.
    let now = sim.client_now(alice.i);
    let done_before = alice.done.len();
    alice
        .groups
        .remove(sim.client_mut(alice.i), now, &g, &carol_id)
        .unwrap();
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            d[1].groups.generation(&g) == Some(1) && d[2].groups.is_removed(&g)
        }),
        "the rekey did not reach Bob or Carol"
    );
    assert!(has(
        &bob,
        |e| matches!(e, GroupEvent::MemberChange { members, .. } if members == &[carol_id])
    ));
    assert_eq!(carol.groups.generation(&g), Some(0));
    assert!(matches!(
        carol.groups.send(
            sim.client_mut(carol.i),
            now,
            &g,
            &Content::text("still here?")
        ),
        Err(GroupsError::Removed)
    ));
    // The revocation is confirmed by a member's signed reply (the only Done Alice's removal
    // produces: everything else it queued is a store).
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            d[0].done.len() > done_before
        }),
        "the revocation was not confirmed"
    );
    assert!(!has(&alice, |e| matches!(e, GroupEvent::Failed { .. })));

    send(&mut sim, &mut alice, &g, "after Carol left");
    let after = |d: &Dev| {
        d.seen.iter().find_map(|e| match e {
            GroupEvent::Message(m) if m.content.as_text() == Some("after Carol left") => {
                Some(m.hash.clone())
            }
            _ => None,
        })
    };
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            after(d[1]).is_some()
        }),
        "Bob did not read the next message: bob {:?}",
        texts(&bob)
    );
    let hash = after(&bob).unwrap();
    // Carol's sub-account is refused now: she neither fetched nor read the new message…
    assert!(
        !carol.fetched.contains(&hash),
        "Carol still fetched group messages"
    );
    assert!(!texts(&carol).contains(&"after Carol left".to_owned()));
    assert!(!has(
        &carol,
        |e| matches!(e, GroupEvent::Message(m) if m.generation == 1)
    ));
    // … and a read of the group's messages with her token is refused (401), while the kick
    // notices (namespace -11) stay readable to her.
    let account = carol.groups.account(&g).unwrap();
    let now = sim.client_now(carol.i);
    let read = sim
        .client_mut(carol.i)
        .swarm_retrieve(now, account.clone(), Namespace::GroupMessages, None, None)
        .unwrap();
    let kicks = sim
        .client_mut(carol.i)
        .swarm_retrieve(
            now,
            account,
            Namespace::RevokedRetrievableGroupMessages,
            None,
            None,
        )
        .unwrap();
    let answered = |d: &Dev, op: OpId| {
        d.other.iter().any(|e| match e {
            Event::Failed { id, .. } | Event::Retrieved { id, .. } => *id == op,
            _ => false,
        })
    };
    assert!(
        drive(&mut sim, &mut [&mut alice, &mut bob, &mut carol], |d| {
            answered(d[2], read) && answered(d[2], kicks)
        }),
        "Carol's retrieves were not answered"
    );
    assert!(
        carol.other.iter().any(|e| matches!(e,
            Event::Failed { id, kind: FailureKind::Rejected { status: 401 } } if *id == read)),
        "Carol's read of namespace 11 was not refused: {:?}",
        carol.other
    );
    assert!(
        carol.other.iter().any(|e| matches!(e,
            Event::Retrieved { id, messages, .. } if *id == kicks && !messages.is_empty())),
        "Carol could not read the kick notice: {:?}",
        carol.other
    );
    // Members never saw an event they should not have.
    assert!(!has(&bob, |e| matches!(e, GroupEvent::Refused { .. })));
}

#[test]
fn forged_invitation_is_refused() {
    let mut sim = sim(22);
    let mut mallory = dev(&mut sim, [0x31; 32]);
    let mut bob = dev(&mut sim, [0x32; 32]);
    let bob_id = sim.client(bob.i).session_id();
    // An invite whose admin signature is for another time (a replay or a forgery).
    let group = GroupKeys::from_seed([0x77; 32]);
    let invite = make_invite(&group, "Fake", &bob_id, Permissions::default(), 1).unwrap();
    let now = sim.client_now(mallory.i);
    sim.client_mut(mallory.i)
        .send(now, &bob_id, &Content::new(Message::GroupUpdate(invite)))
        .unwrap();
    assert!(drive(&mut sim, &mut [&mut mallory, &mut bob], |d| {
        has(d[1], |e| {
            matches!(
                e,
                GroupEvent::InviteRefused {
                    error: GroupError::BadSignature,
                    ..
                }
            )
        })
    }));
    assert!(bob.groups.invitations().is_empty());
    let now = sim.client_now(bob.i);
    assert!(matches!(
        bob.groups
            .accept(sim.client_mut(bob.i), now, &group.group_id()),
        Err(GroupsError::NoInvitation)
    ));
    // Other group updates one-to-one are not the groups layer's.
    assert!(!bob.other.iter().any(|e| matches!(e, Event::Received(m)
        if matches!(m.message.content.message, Message::GroupUpdate(GroupUpdate::Invite { .. })))));
}

#[test]
fn admin_restored_from_user_groups_reads_the_group_back() {
    let mut sim = sim(23);
    let seed = [0x41; 32];
    let mut alice = dev(&mut sim, seed);
    let mut sync = ConfigSync::new(&Seed::from_bytes(seed));
    let now = sim.client_now(alice.i);
    let g = alice
        .groups
        .create(sim.client_mut(alice.i), now, "Kept", &[])
        .unwrap();
    alice
        .groups
        .record_in(&mut sync, sim.client_mut(alice.i), now, &g)
        .unwrap();
    send(&mut sim, &mut alice, &g, "note to self");
    assert!(drive(&mut sim, &mut [&mut alice], |d| {
        has(d[0], |e| matches!(e, GroupEvent::Sent { .. }))
    }));

    // A second device of the same account: groups come back from UserGroups, then from the
    // group's swarm (keys, info, members, messages).
    let mut again = dev(&mut sim, seed);
    let now = sim.client_now(again.i);
    let restored = again
        .groups
        .restore_from(sim.client_mut(again.i), now, &sync.user_groups());
    assert_eq!(restored, vec![g]);
    assert!(drive(&mut sim, &mut [&mut again], |d| {
        d[0].groups.is_synced(&g) && texts(d[0]).contains(&"note to self".to_owned())
    }));
    assert_eq!(again.groups.name(&g).as_deref(), Some("Kept"));
    assert_eq!(again.groups.members(&g).len(), 1);
    assert!(again.groups.is_admin(&g));
    // And it can rekey: the generation after the one it read.
    let carol = Keypair::from_seed(&Seed::from_bytes([0x43; 32])).session_id();
    let now = sim.client_now(again.i);
    again
        .groups
        .invite(sim.client_mut(again.i), now, &g, &carol)
        .unwrap();
    assert_eq!(again.groups.generation(&g), Some(1));
}
