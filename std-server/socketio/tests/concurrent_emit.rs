//! Emits to one socket from many tasks at once (issue 10). A binary packet
//! is a text header followed by its attachment frames; they must reach the
//! client as one unit whatever else is emitted to that socket meanwhile.
//! Before the fix each frame was queued under its own lock, so two emits
//! from two threads could interleave their frames and the client (Node's
//! parser, here oxio_codec's reassembler) saw a text frame where an
//! attachment was due, or another packet's attachment.
//!
//! Every test runs the server on a multi-thread runtime and emits from 8
//! tasks on threads of their own that meet at a barrier every few emits
//! (`oxio_testkit::stress::at_once`), so they really emit at the same
//! time; the raw WebSocket clients of
//! `oxio_testkit::stress` reassemble every packet and check each event's
//! attachments against its header (they encode the sender and the sequence
//! number), that every event arrives once and in its sender's order, and
//! that the connection is still open afterwards.

use oxio_codec::socketio::{Binary, BinaryBuf, PacketType};
use oxio_server::config::EngineConfig;
use oxio_server::socketio::{AckSender, Data, SocketIo, SocketRef};
use oxio_testkit::sio::{run_multi_thread, sio_config, start, SioServer, Ws};
use oxio_testkit::stress::{at_once, emit_bin, sequences, PacketWs, Tally};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const WORKERS: usize = 4;

/// The suites' config with a relaxed heartbeat (a client busy checking
/// thousands of frames must not miss a pong) and a queue bound above what
/// these bursts queue: the tests are about framing, not slow clients.
fn config() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_secs(10),
        ping_timeout: Duration::from_secs(10),
        max_queued_messages: 1 << 16,
        ..sio_config()
    }
}

/// A server whose `/` hands every connected socket to the test; `alive`
/// acks `"yes"`. Its inbound queue holds a whole burst of the client's
/// events (the default closes a session flooding past 1024 queued events,
/// which a loaded machine can reach in the acks test).
async fn server(
    extra: impl Fn(&SocketRef) + Send + Sync + 'static,
) -> (SioServer, mpsc::UnboundedReceiver<SocketRef>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let sio = SocketIo::builder().inbound_queue_len(1 << 12).build();
    sio.io().ns("/", move |s: SocketRef| {
        s.on("alive", |ack: AckSender| {
            ack.send(&("yes",)).unwrap();
        });
        extra(&s);
        tx.send(s).unwrap();
    });
    (start(config(), sio).await, rx)
}

async fn connect(srv: &SioServer) -> PacketWs {
    let mut ws = Ws::eio4(srv.addr).await;
    ws.join("40").await;
    PacketWs::new(ws)
}

/// The connection still works: an acked event round-trips.
async fn assert_alive(client: &mut PacketWs, s: &SocketRef) {
    assert!(s.connected());
    client.ws.send(r#"4299["alive"]"#).await;
    let p = client.next_packet().await;
    assert_eq!(p.text(), r#"399["yes"]"#);
}

/// 8 tasks × 1000 binary events (1–3 attachments each) to one socket.
#[test]
fn binary_emits_to_one_socket_from_many_tasks() {
    run_multi_thread(WORKERS, async {
        const TASKS: u32 = 8;
        const EACH: u32 = 1000;
        let started = Instant::now();
        let (srv, mut sockets) = server(|_| {}).await;
        let mut client = connect(&srv).await;
        let s = sockets.recv().await.unwrap();

        let s2 = s.clone();
        let emitters = tokio::spawn(at_once(sequences(TASKS, EACH), move |t, seq| {
            emit_bin(t as u32, seq, |ev, args| s2.emit(ev, args)).map_err(|e| e.to_string())
        }));
        let mut tally = Tally::default();
        while tally.events < (TASKS * EACH) as usize {
            let p = client.next_packet().await;
            tally.check(&p);
        }
        emitters.await.unwrap().unwrap();
        tally.assert_complete(0..TASKS, EACH);
        client.ws.quiet(100).await;
        assert_alive(&mut client, &s).await;
        eprintln!("{} events checked in {:?}", tally.events, started.elapsed());
        srv.stop().await;
    });
}

/// The answer to ack `id`: `[id, [<attachment>...]]` with 1 to 3
/// attachments derived from the bytes the client sent.
fn ack_parts(id: u64, sent: &[u8]) -> Vec<Vec<u8>> {
    (0..1 + (id % 3) as usize)
        .map(|k| {
            let mut v = sent.to_vec();
            v.push(k as u8);
            if k % 2 == 1 {
                v.reverse();
            }
            v
        })
        .collect()
}

/// What the client sends with event `id`: the id, then a filler.
fn upload(id: u64) -> Vec<u8> {
    let mut v = id.to_be_bytes().to_vec();
    v.extend((0..(id % 40) as u8).map(|i| i ^ id as u8));
    v
}

/// The client emits 2000 binary events with ack ids; the server answers
/// them all at once from 8 tasks with binary acks (1–3 attachments).
#[test]
fn binary_acks_to_one_socket_from_many_tasks() {
    run_multi_thread(WORKERS, async {
        const N: u64 = 2000;
        const TASKS: usize = 8;
        let started = Instant::now();
        let (acks_tx, mut acks_rx) = mpsc::unbounded_channel::<(u64, Vec<u8>, AckSender)>();
        let (srv, mut sockets) = server(move |s| {
            let acks_tx = acks_tx.clone();
            s.on(
                "up",
                move |Data((id, bytes)): Data<(u64, BinaryBuf)>, ack: AckSender| {
                    acks_tx.send((id, bytes.0, ack)).unwrap();
                },
            );
        })
        .await;
        let mut client = connect(&srv).await;
        let s = sockets.recv().await.unwrap();

        for id in 0..N {
            client
                .ws
                .send(&format!(
                    r#"451-{id}["up",{id},{{"_placeholder":true,"num":0}}]"#
                ))
                .await;
            client.ws.send_binary(&upload(id)).await;
        }
        // Every event reached its handler; now answer all of them at once,
        // spread over TASKS tasks.
        let mut shares: Vec<Vec<(u64, Vec<u8>, AckSender)>> =
            (0..TASKS).map(|_| Vec::new()).collect();
        for i in 0..N as usize {
            let a = tokio::time::timeout(Duration::from_secs(5), acks_rx.recv())
                .await
                .expect("every event reaches the handler")
                .unwrap();
            shares[i % TASKS].push(a);
        }
        let emitters = tokio::spawn(at_once(
            shares,
            |_, (id, sent, ack): (u64, Vec<u8>, AckSender)| {
                let parts = ack_parts(id, &sent);
                let bins: Vec<Binary<'_>> = parts.iter().map(|p| Binary(p)).collect();
                ack.send(&(id, bins)).map_err(|e| e.to_string())
            },
        ));

        let mut seen = vec![false; N as usize];
        for _ in 0..N {
            let p = client.next_packet().await;
            let packet = p.packet().unwrap();
            assert_eq!(packet.packet_type(), PacketType::BinaryAck, "{}", p.text());
            let id = packet.ack_id().unwrap();
            let (echoed, bins): (u64, Vec<BinaryBuf>) = packet.args().unwrap();
            assert_eq!(echoed, id, "{}", p.text());
            let got: Vec<Vec<u8>> = bins.into_iter().map(|b| b.0).collect();
            assert!(
                got == ack_parts(id, &upload(id)),
                "ack {id} came with attachments {got:?}"
            );
            assert!(
                !std::mem::replace(&mut seen[id as usize], true),
                "ack {id} twice"
            );
        }
        emitters.await.unwrap().unwrap();
        client.ws.quiet(100).await;
        assert_alive(&mut client, &s).await;
        eprintln!("{N} acks checked in {:?}", started.elapsed());
        srv.stop().await;
    });
}

/// 8 tasks × 1000 `io.emit` binary broadcasts at once to 3 sockets.
#[test]
fn binary_broadcasts_from_many_tasks_to_many_sockets() {
    run_multi_thread(WORKERS, async {
        const TASKS: u32 = 8;
        const EACH: u32 = 1000;
        const CLIENTS: usize = 3;
        let started = Instant::now();
        let (srv, mut sockets) = server(|_| {}).await;
        let mut readers = Vec::new();
        for _ in 0..CLIENTS {
            let mut client = connect(&srv).await;
            let s = sockets.recv().await.unwrap();
            readers.push(tokio::spawn(async move {
                let mut tally = Tally::default();
                while tally.events < (TASKS * EACH) as usize {
                    let p = client.next_packet().await;
                    tally.check(&p);
                }
                tally.assert_complete(0..TASKS, EACH);
                client.ws.quiet(100).await;
                // Checked before the client is dropped (which disconnects).
                assert_alive(&mut client, &s).await;
                tally.events
            }));
        }

        let io = srv.io.clone();
        at_once(sequences(TASKS, EACH), move |t, seq| {
            emit_bin(t as u32, seq, |ev, args| io.emit(ev, args)).map_err(|e| e.to_string())
        })
        .await
        .unwrap();
        let mut total = 0;
        for r in readers {
            total += r.await.unwrap();
        }
        assert_eq!(total, CLIENTS * (TASKS * EACH) as usize);
        eprintln!("{total} deliveries checked in {:?}", started.elapsed());
        srv.stop().await;
    });
}

/// Per sender, the sequence numbers of the `e` events a raw client got,
/// read until the `done` event; a socket disconnected from the namespace
/// (`41`) is connected again (`40`) on the same connection. The client is
/// handed back (dropping it would disconnect its socket).
async fn read_until_done(mut ws: Ws) -> (BTreeMap<u64, Vec<u64>>, Ws) {
    let mut got: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    loop {
        let text = ws.next_text().await;
        match text.as_str() {
            "41" => ws.send("40").await,
            t if t.starts_with("40{") => {}
            r#"42["done"]"# => return (got, ws),
            t => {
                let args: (String, u64, u64) = serde_json::from_str(
                    t.strip_prefix("42")
                        .unwrap_or_else(|| panic!("unexpected {t}")),
                )
                .unwrap();
                assert_eq!(args.0, "e", "{t}");
                got.entry(args.1).or_default().push(args.2);
            }
        }
    }
}

/// Each sender's events arrived at most once and in order.
fn assert_in_order(got: &BTreeMap<u64, Vec<u64>>, who: &str) {
    for (sender, seqs) in got {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{who}: sender {sender} out of order or twice: {seqs:?}"
        );
    }
}

/// Room broadcasts from 4 threads at once race joins, leaves and
/// disconnects of the sockets they target (issue 11: the room index hands
/// the sockets themselves to the delivery). `to(["r", "s"]).except("x")`:
/// a socket in `r` and `s` gets every event once and in order, as does one
/// in `r` only; one in `r` and `x` gets none; two sockets joining and
/// leaving the three rooms meanwhile get each event at most once, in
/// order; a socket disconnected from the namespace and connected again
/// in a loop, on one connection, too. Afterwards the index holds exactly
/// the rooms of the sockets still connected.
#[test]
fn room_broadcasts_race_joins_leaves_and_disconnects() {
    run_multi_thread(WORKERS, async {
        const TASKS: u32 = 4;
        const EACH: u32 = 1000;
        const CHURNS: usize = 400;
        let started = Instant::now();
        let (srv, mut sockets) = server(|_| {}).await;
        let mut clients = Vec::new();
        let mut socks = Vec::new();
        for _ in 0..6 {
            let mut ws = Ws::eio4(srv.addr).await;
            ws.join("40").await;
            clients.push(ws);
            socks.push(sockets.recv().await.unwrap());
        }
        let [both, r_only, excluded, churn1, churn2, cycled] =
            <[SocketRef; 6]>::try_from(socks).ok().unwrap();
        both.join(["r", "s"]);
        r_only.join("r");
        excluded.join(["r", "x"]);
        cycled.join("r");
        let readers: Vec<_> = clients
            .into_iter()
            .map(|ws| tokio::spawn(read_until_done(ws)))
            .collect();

        // Until the broadcasts are done (and at least a few times): two
        // sockets join and leave, each on a thread of its own.
        let stop = Arc::new(AtomicBool::new(false));
        let churners: Vec<_> = [churn1.clone(), churn2.clone()]
            .into_iter()
            .enumerate()
            .map(|(k, s)| {
                let stop = stop.clone();
                tokio::task::spawn_blocking(move || {
                    let rooms = ["r", "s", "x"];
                    let mut i = 0;
                    while i < CHURNS || !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let room = rooms[(i * (k + 2)) % 3];
                        if i % 2 == 0 {
                            s.join(room);
                        } else {
                            s.leave(room);
                        }
                    }
                    s.leave(["r", "s", "x"]);
                })
            })
            .collect();
        // One socket is disconnected from the namespace; its client
        // connects again, and the new socket joins `r`; again and again.
        let stop2 = stop.clone();
        let cycler = tokio::spawn(async move {
            let mut current = cycled;
            let mut cycles = 0;
            while cycles < 20 || !stop2.load(Ordering::Relaxed) {
                // Handed over by the connect handler, before it is
                // connected: a disconnect now would do nothing.
                while !current.connected() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                current.disconnect();
                current = sockets.recv().await.unwrap();
                current.join("r");
                tokio::time::sleep(Duration::from_millis(1)).await;
                cycles += 1;
            }
            current
        });
        let io = srv.io.clone();
        at_once(sequences(TASKS, EACH), move |t, seq| {
            io.to(["r", "s"])
                .except("x")
                .emit("e", &(t, seq))
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap();
        stop.store(true, Ordering::Relaxed);
        for c in churners {
            c.await.unwrap();
        }
        let cycled = cycler.await.unwrap();
        let finals = [&both, &r_only, &excluded, &churn1, &churn2, &cycled];
        for s in finals {
            s.emit("done", &()).unwrap();
        }
        let (mut got, mut clients) = (Vec::new(), Vec::new());
        for r in readers {
            let (g, ws) = r.await.unwrap();
            got.push(g);
            clients.push(ws);
        }
        let every: BTreeMap<u64, Vec<u64>> = (0..TASKS as u64)
            .map(|t| (t, (0..EACH as u64).collect()))
            .collect();
        assert_eq!(got[0], every, "in r and s");
        assert_eq!(got[1], every, "in r");
        assert!(got[2].is_empty(), "in x: {:?}", got[2]);
        for (g, who) in got[3..].iter().zip(["churn1", "churn2", "cycled"]) {
            assert_in_order(g, who);
        }

        let mut rooms: Vec<String> = srv
            .io
            .rooms()
            .await
            .unwrap()
            .iter()
            .map(|r| r.to_string())
            .collect();
        rooms.sort();
        let mut want: Vec<String> = finals.iter().map(|s| s.id().to_string()).collect();
        want.extend(["r", "s", "x"].map(String::from));
        want.sort();
        assert_eq!(rooms, want, "no room of a socket gone");
        let mut in_r: Vec<String> = srv
            .io
            .to("r")
            .fetch_sockets()
            .await
            .unwrap()
            .iter()
            .map(|s| s.id().to_string())
            .collect();
        in_r.sort();
        let mut want_r: Vec<String> = [&both, &r_only, &excluded, &cycled]
            .iter()
            .map(|s| s.id().to_string())
            .collect();
        want_r.sort();
        assert_eq!(in_r, want_r);
        let counts: Vec<usize> = got.iter().map(|g| g.values().map(Vec::len).sum()).collect();
        eprintln!(
            "deliveries per client {counts:?} checked in {:?}",
            started.elapsed()
        );
        drop(clients);
        srv.stop().await;
    });
}
