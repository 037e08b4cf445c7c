//! The socketioxide side of `benches/compare.sh`, with the load contract
//! every compared server implements (see `benches/peers/README.md`):
//! namespace `/`; `echo` (one argument) answered with `echo-response`
//! carrying the same argument; `bcast` (one argument) re-emitted to every
//! socket as `bcast`; `join` (a room name, with an ack) joins that room and
//! acks with no arguments; `bcast-room` (room name, one argument) re-emits
//! the argument as `bcast` to every socket of that room; `POST /api/update`
//! (a JSON body) emits the body as `bcast` to every socket.
//! socketioxide's defaults otherwise (pingInterval 25 s, pingTimeout 20 s).
//!
//! Usage: `socketioxide-peer [PORT]` (or env `PORT`; default 3000; 0 = any
//! free port). Prints `listening on <port>` once ready.
#![forbid(unsafe_code)]

use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

async fn on_connect(socket: SocketRef) {
    // oxio-load sends one argument (an object), which `Data<Value>` takes
    // whole and `emit` sends back as one argument.
    socket.on("echo", async |s: SocketRef, Data(arg): Data<Value>| {
        if let Err(e) = s.emit("echo-response", &arg) {
            eprintln!("echo-response: {e}");
        }
    });
    socket.on("bcast", async |io: SocketIo, Data(arg): Data<Value>| {
        if let Err(e) = io.emit("bcast", &arg).await {
            eprintln!("bcast: {e}");
        }
    });
    socket.on(
        "join",
        async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
            s.join(room);
            if let Err(e) = ack.send(&()) {
                eprintln!("join ack: {e}");
            }
        },
    );
    socket.on(
        "bcast-room",
        async |io: SocketIo, Data((room, arg)): Data<(String, Value)>| {
            if let Err(e) = io.to(room).emit("bcast", &arg).await {
                eprintln!("bcast-room: {e}");
            }
        },
    );
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .map_or(Ok(3000), |p| p.parse())
        .map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad port: {e}"))
        })?;
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", on_connect);
    // The REST fan-out: `POST /api/update` emits its JSON body as `bcast`.
    let rest_io = io.clone();
    let update = async move |body: axum::body::Bytes| {
        let Ok(arg) = serde_json::from_slice::<Value>(&body) else {
            return (axum::http::StatusCode::BAD_REQUEST, "{}");
        };
        if let Err(e) = rest_io.emit("bcast", &arg).await {
            eprintln!("update: {e}");
        }
        (axum::http::StatusCode::OK, "{}")
    };
    let app = axum::Router::new()
        .route("/api/update", axum::routing::post(update))
        .layer(layer);
    // Node's listen backlog (511), as for every compared server (Rust's
    // `TcpListener::bind` uses 128, which overflows in a connect storm).
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    let listener = socket.listen(511)?;
    println!("listening on {}", listener.local_addr()?.port());
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
