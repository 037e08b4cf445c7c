//! Server-side events between the nodes of a cluster (Node's
//! `serverSideEmit` and `io.on("event")`), and the JSON `data` a socket
//! shows to other nodes' `fetch_sockets`.

use crate::Payload;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The answer channel of a server-side event that asked for one.
pub struct ServerAck(Box<dyn FnOnce(serde_json::Value) + Send>);

impl ServerAck {
    /// An answer channel that calls `f` with the answer (what cluster
    /// adapters make to publish it back).
    pub fn new(f: impl FnOnce(serde_json::Value) + Send + 'static) -> Self {
        ServerAck(Box::new(f))
    }
}

impl std::fmt::Debug for ServerAck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerAck")
    }
}

/// An event another node sent with `serverSideEmit` / `server_side_emit`.
///
/// ```
/// use oxio_adapter::{ServerAck, ServerEvent};
/// use std::sync::{Arc, Mutex};
///
/// let got = Arc::new(Mutex::new(None));
/// let g = got.clone();
/// let ack = ServerAck::new(move |v| *g.lock().unwrap() = Some(v));
/// let ev = ServerEvent::new(r#"["hello",1,"two"]"#, Some(ack)).unwrap();
/// assert_eq!(ev.event(), "hello");
/// let (a, b): (u32, String) = ev.args().unwrap();
/// assert_eq!((a, b.as_str()), (1, "two"));
/// assert!(ev.wants_ack());
/// ev.ack(&"pong").unwrap();
/// assert_eq!(*got.lock().unwrap(), Some(serde_json::json!("pong")));
/// ```
#[derive(Debug)]
pub struct ServerEvent {
    event: String,
    payload: Payload,
    ack: Option<ServerAck>,
}

impl ServerEvent {
    /// An event from the JSON array `[event, ...args]`; `None` when it is
    /// not such an array.
    pub fn new(data: &str, ack: Option<ServerAck>) -> Option<Self> {
        let event = match serde_json::from_str::<serde_json::Value>(data).ok()? {
            serde_json::Value::Array(a) => a.first()?.as_str()?.to_owned(),
            _ => return None,
        };
        let payload = Payload::new(
            oxio_engine::Utf8Bytes::from(data),
            0,
            1,
            Vec::new(),
            oxio_codec::Limits::default().max_depth,
        );
        Some(ServerEvent {
            event,
            payload,
            ack,
        })
    }

    /// The event name.
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The arguments (tuple rule, as for client events).
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, oxio_codec::socketio::Error> {
        self.payload.args()
    }

    /// The arguments as received.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// Whether the sender waits for an answer.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the sender with `value` (one answer per node, as in Node).
    /// Does nothing if no answer was asked for.
    pub fn ack<T: Serialize + ?Sized>(self, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        if let Some(ServerAck(f)) = self.ack {
            f(value);
        }
        Ok(())
    }
}

/// The answers to a server-side emit with ack.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerSideAcks {
    /// One answer per node that answered, in arrival order.
    pub responses: Vec<serde_json::Value>,
    /// How many other nodes were asked.
    pub expected: usize,
    /// Whether the timeout expired before every node answered.
    pub timed_out: bool,
}
