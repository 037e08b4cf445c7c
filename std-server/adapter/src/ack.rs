//! Collecting the answers to a broadcast with acks, from local sockets
//! and from other nodes.

use crate::{AckError, Payload};
use oxio_engine::Sid;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What a socket answering a broadcast's ack reports through.
pub type AckSink = mpsc::UnboundedSender<AckEvent>;

/// An event on the way to a broadcast-with-ack's collector.
#[derive(Debug)]
pub enum AckEvent {
    /// One client's answer (or why none will come).
    Response(AckResponse),
    /// Another node reached this many more clients.
    ClientCount(usize),
    /// Another node finished reporting (its count is in).
    ServerDone,
    /// The number of other nodes, for a collector that counted on it with
    /// [`AckCollector::expect_server_count_later`].
    ServerCount(usize),
}

/// Collects the answers to one broadcast with acks: the clients reached
/// locally, the nodes still to report their counts, and a channel of events.
#[derive(Debug)]
pub struct AckCollector {
    rx: mpsc::UnboundedReceiver<AckEvent>,
    tx: AckSink,
    expected: usize,
    servers_pending: usize,
    /// [`AckEvent::ServerCount`]s still to come.
    servers_unknown: usize,
    /// Nodes that reported before the node count was known.
    servers_early: usize,
}

impl AckCollector {
    /// An empty collector.
    ///
    /// ```
    /// let mut c = oxio_adapter::AckCollector::new();
    /// c.expect_clients(2);
    /// c.expect_servers(1);
    /// assert_eq!(c.expected_clients(), 2);
    /// ```
    pub fn new() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        AckCollector {
            rx,
            tx,
            expected: 0,
            servers_pending: 0,
            servers_unknown: 0,
            servers_early: 0,
        }
    }

    /// Where answers and remote counts are sent.
    pub fn sink(&self) -> AckSink {
        self.tx.clone()
    }

    /// Counts `n` more clients reached.
    pub fn expect_clients(&mut self, n: usize) {
        self.expected = self.expected.saturating_add(n);
    }

    /// Counts `n` more nodes that will report a [`AckEvent::ClientCount`]
    /// followed by [`AckEvent::ServerDone`].
    pub fn expect_servers(&mut self, n: usize) {
        self.servers_pending = self.servers_pending.saturating_add(n);
    }

    /// Counts on one [`AckEvent::ServerCount`] that will say how many
    /// nodes report (a cluster adapter asks Redis while the broadcast goes).
    /// Until it comes, the collection is not complete.
    pub fn expect_server_count_later(&mut self) {
        self.servers_unknown = self.servers_unknown.saturating_add(1);
    }

    /// Applies one event to the counts; returns the response it carried.
    fn apply(&mut self, event: AckEvent) -> Option<AckResponse> {
        match event {
            AckEvent::Response(r) => return Some(r),
            AckEvent::ClientCount(n) => self.expect_clients(n),
            AckEvent::ServerDone => {
                // A node may report before the count of nodes is known:
                // borrow from the count to come.
                match self.servers_pending.checked_sub(1) {
                    Some(n) => self.servers_pending = n,
                    None => self.servers_early = self.servers_early.saturating_add(1),
                }
            }
            AckEvent::ServerCount(n) => {
                self.servers_unknown = self.servers_unknown.saturating_sub(1);
                let early = std::mem::take(&mut self.servers_early);
                self.servers_pending = self.servers_pending.saturating_add(n.saturating_sub(early));
            }
        }
        None
    }

    /// Whether every node reported and `responses` answers cover every client.
    fn complete(&self, responses: usize) -> bool {
        self.servers_unknown == 0 && self.servers_pending == 0 && responses >= self.expected
    }

    /// The next event, for an adapter that forwards the answers itself
    /// (to the node that asked for the broadcast); `None` never comes while
    /// the collector holds its own sender.
    pub async fn recv(&mut self) -> Option<AckEvent> {
        self.rx.recv().await
    }

    /// Clients known to be reached so far.
    pub fn expected_clients(&self) -> usize {
        self.expected
    }
}

impl Default for AckCollector {
    fn default() -> Self {
        Self::new()
    }
}

/// One client's answer to a broadcast with acks.
#[derive(Debug)]
pub struct AckResponse {
    /// Who answered.
    pub sid: Sid,
    /// The ack arguments, or why none came.
    pub result: Result<Payload, AckError>,
}

/// The answers to a broadcast with acks.
#[derive(Debug, Default)]
pub struct BroadcastAcks {
    /// The answers received, in arrival order.
    pub responses: Vec<AckResponse>,
    /// How many clients the packet reached (on every node that reported).
    pub expected: usize,
    /// Whether the timeout expired before every client (and node) answered.
    pub timed_out: bool,
}

impl BroadcastAcks {
    /// The successful answers deserialized as `T` (tuple rule); failures
    /// and undecodable answers are skipped.
    pub fn values<T: serde::de::DeserializeOwned>(&self) -> Vec<T> {
        self.responses
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .filter_map(|p| p.args().ok())
            .collect()
    }
}

impl AckCollector {
    /// Collects until every reached client answered (or disconnected) and
    /// every node reported, or until `deadline` with what arrived.
    ///
    /// ```
    /// use oxio_adapter::{AckCollector, AckEvent, AckResponse, Payload};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut c = AckCollector::new();
    /// c.expect_clients(1);
    /// let answer = Payload::from_event_text(r#"2["ok",1]"#).unwrap();
    /// c.sink().send(AckEvent::Response(AckResponse { sid: "a".into(), result: Ok(answer) })).unwrap();
    /// let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
    /// let acks = c.collect(deadline).await;
    /// assert_eq!((acks.responses.len(), acks.expected, acks.timed_out), (1, 1, false));
    /// # }
    /// ```
    pub async fn collect(mut self, deadline: Instant) -> BroadcastAcks {
        let mut out = BroadcastAcks::default();
        loop {
            if self.complete(out.responses.len()) {
                break;
            }
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(event)) => {
                    if let Some(r) = self.apply(event) {
                        out.responses.push(r);
                    }
                }
                // Unreachable while the collector holds its own sender.
                Ok(None) => break,
                Err(_) => {
                    out.timed_out = true;
                    break;
                }
            }
        }
        out.expected = self.expected;
        out
    }
}
