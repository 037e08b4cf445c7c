//! The application the real-client interop tests talk to, written as a
//! user of oxio-server would. What it does is logged for the tests.
//!
//! Namespaces: `/` and `/custom` (open), `/admin` (middleware: auth token
//! must be `secret`). Events on every namespace:
//! - on connect: emits `hello` with the socket id and the auth;
//! - `echo`: acks every argument back;
//! - `ask` n: asks the client `question` n (emit_with_ack), acks the answer;
//! - `ask-timeout`: asks `ignored` with a 150 ms timeout, acks the error;
//! - `bin` {id, file, parts}, extra: emits `bin-back` with the bytes in a
//!   new shape, acks the sizes;
//! - `ask-bin`: asks `bin-question` with bytes, acks the client's bytes;
//! - `join` rooms, `to-room` room msg, `broadcast` msg, `except` room msg,
//!   `io-except` room msg, `to-many` rooms msg: rooms and broadcasts, each
//!   acked once emitted;
//! - `kick`: the server disconnects the socket;
//! - `buffered`: logged.

use crate::sio::Log;
use oxio_codec::socketio::{Args, Binary, BinaryBuf};
use oxio_server::socketio::{
    AckSender, ConnectError, Data, DisconnectReason, Io, Parser, SocketIo, SocketRef,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Deserialize)]
struct BinIn {
    id: u32,
    file: BinaryBuf,
    parts: Vec<BinaryBuf>,
}

#[derive(Serialize)]
struct BinOut<'a> {
    id: u32,
    nested: Nested<'a>,
    all: Vec<Binary<'a>>,
}

#[derive(Serialize)]
struct Nested<'a> {
    file: Binary<'a>,
    label: &'a str,
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

fn on_connect(io: Io, log: Log) -> impl Fn(SocketRef, Data<Value>) + Send + Sync + 'static {
    move |s: SocketRef, Data(auth): Data<Value>| {
        log.push(format!("connect:{}:{}", s.ns(), auth));
        s.emit("hello", &(s.id().as_str(), &auth)).unwrap();
        s.on(
            "echo",
            |Data(Args(args)): Data<Args<Vec<Value>>>, ack: AckSender| {
                ack.send(&Args(args)).unwrap();
            },
        );
        s.on(
            "ask",
            |s: SocketRef, Data(n): Data<i64>, ack: AckSender| async move {
                let reply = s.emit_with_ack("question", &(n,)).await;
                let answer: Value = match reply {
                    Ok(p) => p.args().unwrap_or(Value::Null),
                    Err(e) => json!(format!("error: {e}")),
                };
                ack.send(&(answer,)).unwrap();
            },
        );
        s.on("ask-timeout", |s: SocketRef, ack: AckSender| async move {
            let reply = s
                .timeout(Duration::from_millis(150))
                .emit_with_ack("ignored", &())
                .await;
            let text = match reply {
                Ok(p) => format!("unexpected answer {}", p.raw()),
                Err(e) => e.to_string(),
            };
            ack.send(&(text,)).unwrap();
        });
        s.on(
            "bin",
            |s: SocketRef, Data((msg, extra)): Data<(BinIn, BinaryBuf)>, ack: AckSender| {
                let mut all: Vec<Binary> = msg.parts.iter().map(|p| Binary(&p.0)).collect();
                all.push(Binary(&extra.0));
                let out = BinOut {
                    id: msg.id,
                    nested: Nested {
                        file: Binary(&msg.file.0),
                        label: "file",
                    },
                    all,
                };
                s.emit("bin-back", &(out, Binary(&[0xff, 0x00]))).unwrap();
                let sizes: Vec<usize> = msg.parts.iter().map(|p| p.0.len()).collect();
                ack.send(&(msg.id, msg.file.0.len(), sizes, extra.0.len()))
                    .unwrap();
            },
        );
        s.on("ask-bin", |s: SocketRef, ack: AckSender| async move {
            let reply = s
                .emit_with_ack("bin-question", &(Binary(&[1, 2, 3]),))
                .await;
            match reply.map(|p| p.args::<BinaryBuf>()) {
                Ok(Ok(bytes)) => ack.send(&(&bytes.0, Binary(&bytes.0))).unwrap(),
                other => ack.send(&(format!("{other:?}"),)).unwrap(),
            }
        });
        s.on(
            "join",
            |s: SocketRef, Data(rooms): Data<Vec<String>>, ack: AckSender| {
                s.join(rooms);
                ack.send(&()).unwrap();
            },
        );
        s.on(
            "to-room",
            |s: SocketRef, Data((room, msg)): Data<(String, String)>, ack: AckSender| {
                s.to(room).emit("room-msg", &(msg,)).unwrap();
                ack.send(&()).unwrap();
            },
        );
        s.on(
            "broadcast",
            |s: SocketRef, Data(msg): Data<String>, ack: AckSender| {
                s.broadcast().emit("bc", &(msg,)).unwrap();
                ack.send(&()).unwrap();
            },
        );
        s.on(
            "except",
            |s: SocketRef, Data((room, msg)): Data<(String, String)>, ack: AckSender| {
                s.except(room).emit("except-msg", &(msg,)).unwrap();
                ack.send(&()).unwrap();
            },
        );
        let io2 = io.clone();
        s.on(
            "io-except",
            move |Data((room, msg)): Data<(String, String)>, ack: AckSender| {
                io2.except(room).emit("except-msg", &(msg,)).unwrap();
                ack.send(&()).unwrap();
            },
        );
        let io3 = io.clone();
        s.on(
            "to-many",
            move |Data((rooms, msg)): Data<(Vec<String>, String)>, ack: AckSender| {
                io3.to(rooms).emit("many", &(msg,)).unwrap();
                ack.send(&()).unwrap();
            },
        );
        s.on("kick", |s: SocketRef| s.disconnect());
        let l = log.clone();
        s.on("buffered", move |s: SocketRef, Data(v): Data<Value>| {
            l.push(format!("buffered:{}:{v}", s.ns()));
        });
        let l = log.clone();
        s.on_disconnect(move |s: SocketRef, reason: DisconnectReason| {
            l.push(format!("disconnect:{}:{reason}", s.ns()));
        });
    }
}

/// The server (an `EngineHandler`, for [`super::start`]).
pub fn interop_app(log: Log) -> SocketIo {
    interop_app_with(Parser::Json, log)
}

/// [`interop_app`] speaking `parser`.
pub fn interop_app_with(parser: Parser, log: Log) -> SocketIo {
    let sio = SocketIo::builder().parser(parser).build();
    let io = sio.io();
    io.ns("/", on_connect(io.clone(), log.clone()));
    io.ns("/custom", on_connect(io.clone(), log.clone()));
    io.ns("/admin", on_connect(io.clone(), log.clone()))
        .use_middleware(|s: SocketRef| async move {
            match s.handshake().auth::<Token>() {
                Ok(t) if t.token == "secret" => Ok(()),
                _ => Err(ConnectError::new("not authorized")
                    .with_data(json!({"content": "retry later"}))),
            }
        });
    sio
}
