//! The msgpack parser (issue 13) over a real WebSocket, raw frames and
//! exact bytes: the CONNECT reply, acks and events as one binary frame
//! each, bytes inline both ways, CONNECT_ERROR for an unknown namespace,
//! and the frames `socket.io-msgpack-parser`'s decoder refuses, each of
//! which closes the connection as in Node (a text frame included).

use oxio_codec::msgpack::{Decoder, Encoder};
use oxio_codec::socketio::{Args, Binary, BinaryBuf, PacketType};
use oxio_server::socketio::{AckSender, Data, Parser, SocketIo, SocketRef};
use oxio_testkit::sio::{run, sio_config, start, Frame, SioServer, Ws};

/// `/`: `echo` acks its arguments, `bytes` acks the reversed bytes and
/// emits them back as event `rev`.
async fn server() -> SioServer {
    let sio = SocketIo::builder().parser(Parser::Msgpack).build();
    sio.io().ns("/", |s: SocketRef| {
        s.on(
            "echo",
            |Data(Args(args)): Data<Args<Vec<serde_json::Value>>>, ack: AckSender| {
                ack.send(&Args(args)).unwrap();
            },
        );
        s.on(
            "bytes",
            |s: SocketRef, Data(b): Data<BinaryBuf>, ack: AckSender| {
                let rev: Vec<u8> = b.0.iter().rev().copied().collect();
                s.emit("rev", &(Binary(&rev), "x")).unwrap();
                ack.send(&(Binary(&rev),)).unwrap();
            },
        );
    });
    start(sio_config(), sio).await
}

fn binary(f: Frame) -> Vec<u8> {
    match f {
        Frame::Binary(b) => b,
        Frame::Text(t) => panic!("expected a binary frame, got {t:?}"),
    }
}

/// Joins `/` with a binary CONNECT; checks the reply's exact bytes and
/// returns the socket id.
async fn join(ws: &mut Ws) -> String {
    let mut buf = [0u8; 32];
    let n = Encoder::default().connect(&mut buf, "/").unwrap();
    ws.send_binary(&buf[..n]).await;
    let reply = binary(ws.next_data().await);
    // {type:0, data:{sid, pid:undefined}, nsp:"/"}, keys as the Node server writes them.
    let head = b"\x83\xa4type\x00\xa4data\x82\xa3sid\xb4";
    assert!(reply.starts_with(head), "{reply:x?}");
    let sid = std::str::from_utf8(&reply[head.len()..head.len() + 20])
        .unwrap()
        .to_owned();
    assert_eq!(
        &reply[head.len() + 20..],
        b"\xa3pid\xd4\x00\x00\xa3nsp\xa1/",
        "{reply:x?}"
    );
    sid
}

#[test]
fn connect_events_acks_and_bytes_are_binary_frames() {
    run(async {
        let srv = server().await;
        let mut ws = Ws::eio4(srv.addr).await;
        join(&mut ws).await;
        let enc = Encoder::default();

        let ev = enc
            .event_to_vec("/", Some(1), "echo", &(1, "é", [true]))
            .unwrap();
        ws.send_binary(&ev).await;
        assert_eq!(
            binary(ws.next_data().await),
            enc.ack_to_vec("/", 1, &(1, "é", [true])).unwrap()
        );
        // The exact bytes of that ACK: `id, type, data, nsp`.
        assert_eq!(
            enc.ack_to_vec("/", 1, &(1, "é", [true])).unwrap(),
            b"\x84\xa2id\x01\xa4type\x03\xa4data\x93\x01\xa2\xc3\xa9\x91\xc3\xa3nsp\xa1/"
        );

        // Bytes inline as bin (a Node Buffer), or ext 0 (a typed array).
        for bytes in [&b"\xc4\x03\x01\x02\x03"[..], b"\xc7\x03\x00\x01\x02\x03"] {
            let mut frame = b"\x84\xa4type\x02\xa4data\x92\xa5bytes".to_vec();
            frame.extend_from_slice(bytes);
            frame.extend_from_slice(b"\xa2id\x02\xa3nsp\xa1/");
            ws.send_binary(&frame).await;
            let rev = binary(ws.next_data().await);
            assert_eq!(
                rev,
                enc.event_to_vec("/", None, "rev", &(Binary(&[3, 2, 1]), "x"))
                    .unwrap()
            );
            assert_eq!(
                binary(ws.next_data().await),
                enc.ack_to_vec("/", 2, &(Binary(&[3, 2, 1]),)).unwrap()
            );
        }
        ws.close().await;
        srv.stop().await;
    });
}

#[test]
fn an_unknown_namespace_gets_connect_error() {
    run(async {
        let srv = server().await;
        let mut ws = Ws::eio4(srv.addr).await;
        let mut buf = [0u8; 32];
        let n = Encoder::default().connect(&mut buf, "/nope").unwrap();
        ws.send_binary(&buf[..n]).await;
        let reply = binary(ws.next_data().await);
        // As Node writes it: `nsp` before `data`, only `message` inside.
        assert_eq!(
            reply,
            b"\x83\xa4type\x04\xa3nsp\xa5/nope\xa4data\x81\xa7message\xb1Invalid namespace"
        );
        let p = Decoder::default().decode(&reply).unwrap();
        assert_eq!(p.packet_type(), PacketType::ConnectError);
        assert_eq!(p.namespace(), "/nope");
        assert_eq!(p.connect_error_message(), Some("Invalid namespace"));
        // The session stays open: `/` can still be joined.
        join(&mut ws).await;
        ws.close().await;
        srv.stop().await;
    });
}

/// Frames the reference decoder refuses (or a text frame): each closes
/// the connection, before or after joining `/`.
#[test]
fn refused_frames_close_the_connection() {
    let bad: &[&[u8]] = &[
        b"\x82\xa4type\x05\xa3nsp\xa1/",  // BINARY_EVENT: not in msgpack
        b"\x82\xa4type\xa12\xa3nsp\xa1/", // type not an integer
        b"\x83\xa4type\x02\xa4data\x81\xa1a\x01\xa3nsp\xa1/", // event data not an array
        b"\x83\xa4type\x00\xa4data\x90\xa3nsp\xa1/", // CONNECT data not a map
        b"\x84\xa4type\x02\xa4data\x91\xa1e\xa2id\xa11\xa3nsp\xa1/", // id not an integer
        b"\x82\xa4type\x02\xa3nsp\x01",   // nsp not a string
        b"\x83\xa4type\x02\xa4data\x91\xa7connect\xa3nsp\xa1/", // reserved name
        b"\x92\x01\x02",                  // not a map
        b"\x83\xa4type\x02\xa4data\x91",  // truncated
        b"\x82\xa4type\x04\xa3nsp\xa1/",  // CONNECT_ERROR from a client
    ];
    run(async {
        let srv = server().await;
        for (i, frame) in bad.iter().enumerate() {
            let mut ws = Ws::eio4(srv.addr).await;
            if i % 2 == 1 {
                join(&mut ws).await;
            }
            ws.send_binary(frame).await;
            ws.closed().await;
        }
        // A text frame (the default parser's `40`).
        let mut ws = Ws::eio4(srv.addr).await;
        ws.send("40").await;
        assert!(ws.closed().await.is_empty());
        srv.stop().await;
    });
}
