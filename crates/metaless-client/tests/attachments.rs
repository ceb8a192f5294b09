//! Attachments through the in-process network: upload to a file server behind the last hop,
//! download and decrypt, and the `Event::Transfer` progress of transfers over the threshold
//! (order, totals, retries, failures, small transfers silent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use metaless_attachment::{FileServer, encrypted_size};
use metaless_client::{
    Bootstrap, Client, Config, Event, OpId, PROGRESS_THRESHOLD, TransferDirection,
    TransferProgress, TransferStage, UploadOptions,
};
use metaless_identity::{Keypair, Seed};
use metaless_testnet::server_fake::{FakeResponse, FakeServer};
use metaless_testnet::{LoopbackConfig, LoopbackNet, Sim};

fn keys(b: u8) -> Keypair {
    Keypair::from_seed(&Seed::from_bytes([b; 32]))
}

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

fn add(sim: &mut Sim, b: u8, max_attempts: u32) -> usize {
    sim.add(|nodes, now| {
        let mut config = Config::testnet(Bootstrap::Nodes(nodes));
        config.poll_interval_ms = None;
        config.max_attempts = max_attempts;
        Client::new(keys(b), config, [b ^ 0x55; 32], now)
    })
}

/// A file server in the loopback network: POST /file stores, GET /file/<id> serves. `up`
/// false answers nothing (the last hop then reports an error).
fn file_server(sim: &mut Sim, up: bool) -> FileServer {
    let server_keys = keys(0x42);
    let store: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
    FakeServer::install(
        &mut sim.net,
        *server_keys.x25519_secret().expose_secret(),
        move |req| {
            if !up {
                return None;
            }
            let mut files = store.lock().unwrap();
            if req.method == "POST" && req.endpoint == "/file" {
                let id = format!("f{}", files.len() + 1);
                files.insert(id.clone(), req.body.clone().unwrap_or_default());
                return Some(FakeResponse::json(200, format!(r#"{{"id":"{id}"}}"#)));
            }
            let id = req.endpoint.strip_prefix("/file/")?;
            Some(match files.get(id) {
                Some(body) => FakeResponse {
                    status: 200,
                    headers: vec![],
                    body: body.clone(),
                },
                None => FakeResponse::json(404, "{}"),
            })
        },
    );
    FileServer::new("http", "files.test", 8080, server_keys.ed25519_public()).unwrap()
}

/// Runs until `id` has its ServerResponse or Failed; returns every event for `id`, in order.
fn run_op(sim: &mut Sim, i: usize, id: OpId) -> Vec<Event> {
    let ends = |e: &Event| matches!(e, Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } if *d == id);
    assert!(
        sim.run_until(600_000, |s| s.events(i).iter().any(ends)),
        "no answer for {id:?}"
    );
    sim.take_events(i)
        .into_iter()
        .filter(|e| match e {
            Event::Transfer(p) => p.id == id,
            Event::ServerResponse { id: d, .. } | Event::Failed { id: d, .. } => *d == id,
            _ => false,
        })
        .collect()
}

fn progress(events: &[Event]) -> Vec<TransferProgress> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Transfer(p) => Some(*p),
            _ => None,
        })
        .collect()
}

#[test]
fn large_upload_and_download_report_progress_in_order() {
    let mut sim = sim(1);
    let fs = file_server(&mut sim, true);
    let (a, b) = (add(&mut sim, 1, 8), add(&mut sim, 2, 8));
    let data: Vec<u8> = (0..PROGRESS_THRESHOLD + 10_000).map(|i| i as u8).collect();

    let now = sim.client_now(a);
    let up = sim
        .client_mut(a)
        .upload_attachment(now, &fs, &data, UploadOptions::default())
        .unwrap();
    let enc = encrypted_size(data.len() as u64);
    assert_eq!(up.encrypted_len() as u64, enc);
    let events = run_op(&mut sim, a, up.op());
    let p = progress(&events);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(p.iter().all(|p| p.direction == TransferDirection::Upload));
    assert_eq!(
        (p[0].stage, p[0].bytes, p[0].total),
        (TransferStage::Started, 0, Some(enc))
    );
    assert_eq!(p[1].stage, TransferStage::Sent { attempt: 1 });
    // Once built, the total is the onion request: the encrypted file and the layers round it.
    let wire = p[1].total.unwrap();
    assert!(wire > enc && wire < enc + 4096, "{wire} vs {enc}");
    assert_eq!(
        (p[2].stage, p[2].bytes, p[2].total, p[2].percent()),
        (TransferStage::Finished, wire, Some(wire), Some(100))
    );
    // Finished comes right before the op's answer.
    let Some(Event::ServerResponse { response, .. }) = events.last() else {
        panic!("the answer is last: {events:?}")
    };
    assert!(
        matches!(events[events.len() - 2], Event::Transfer(p) if p.stage == TransferStage::Finished)
    );
    let pointer = up.finish(response).unwrap();

    let now = sim.client_now(b);
    let down = sim
        .client_mut(b)
        .download_attachment(now, &pointer)
        .unwrap();
    let events = run_op(&mut sim, b, down.op());
    let p = progress(&events);
    assert_eq!(p.len(), 3, "{p:?}");
    assert!(p.iter().all(|p| p.direction == TransferDirection::Download));
    // The pointer's size gives the expected encrypted size up front.
    assert_eq!(
        (p[0].stage, p[0].total),
        (TransferStage::Started, Some(enc))
    );
    assert_eq!(p[1].stage, TransferStage::Sent { attempt: 1 });
    assert_eq!(
        (p[2].stage, p[2].bytes, p[2].total),
        (TransferStage::Finished, enc, Some(enc))
    );
    let Some(Event::ServerResponse { response, .. }) = events.last() else {
        panic!("the answer is last")
    };
    assert_eq!(down.finish(response).unwrap(), data);
    assert_eq!(sim.client(a).pending_ops() + sim.client(b).pending_ops(), 0);
}

#[test]
fn small_transfers_report_nothing() {
    let mut sim = sim(2);
    let fs = file_server(&mut sim, true);
    let a = add(&mut sim, 1, 8);
    let data = vec![7u8; PROGRESS_THRESHOLD - 1];
    let now = sim.client_now(a);
    let up = sim
        .client_mut(a)
        .upload_attachment(now, &fs, &data, UploadOptions::default())
        .unwrap();
    let events = run_op(&mut sim, a, up.op());
    assert!(progress(&events).is_empty(), "{events:?}");
    let Some(Event::ServerResponse { response, .. }) = events.last() else {
        panic!("answered")
    };
    let pointer = up.finish(response).unwrap();
    let now = sim.client_now(a);
    let down = sim
        .client_mut(a)
        .download_attachment(now, &pointer)
        .unwrap();
    let events = run_op(&mut sim, a, down.op());
    assert!(progress(&events).is_empty());
    let Some(Event::ServerResponse { response, .. }) = events.last() else {
        panic!("answered")
    };
    assert_eq!(down.finish(response).unwrap(), data);
}

#[test]
fn unreachable_server_reports_each_attempt_and_no_finish() {
    let mut sim = sim(3);
    let fs = file_server(&mut sim, false);
    let a = add(&mut sim, 1, 3);
    let data = vec![1u8; PROGRESS_THRESHOLD];
    let now = sim.client_now(a);
    let up = sim
        .client_mut(a)
        .upload_attachment(now, &fs, &data, UploadOptions::default())
        .unwrap();
    let events = run_op(&mut sim, a, up.op());
    let stages: Vec<TransferStage> = progress(&events).iter().map(|p| p.stage).collect();
    assert_eq!(
        stages,
        [
            TransferStage::Started,
            TransferStage::Sent { attempt: 1 },
            TransferStage::Sent { attempt: 2 },
            TransferStage::Sent { attempt: 3 },
        ]
    );
    assert!(matches!(events.last(), Some(Event::Failed { .. })));
    // Nothing more is reported for that op afterwards.
    sim.run_until(60_000, |_| false);
    assert!(
        !sim.take_events(a)
            .iter()
            .any(|e| matches!(e, Event::Transfer(_)))
    );
}
