//! What can go wrong on the way out: an adapter failing, an emit failing,
//! an ack not arriving. Every error keeps its cause (`source()`).

use oxio_codec::socketio::Error as CodecError;
use std::fmt;
use std::sync::Arc;

/// An error from below kept as the cause of one of ours: shared, so the
/// errors that hold it stay `Clone`; two are equal when they are the same
/// error (not merely alike).
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    /// Wraps `e`.
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Cause(Arc::new(e))
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cause {}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// An adapter failure.
///
/// ```
/// use oxio_adapter::{AdapterError, Cause};
/// use std::error::Error as _;
///
/// let io = std::io::Error::other("connection refused");
/// let e = AdapterError::Transport(Cause::new(io));
/// assert_eq!(e.to_string(), "adapter transport failed");
/// assert_eq!(e.source().unwrap().to_string(), "connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Other nodes did not answer in time, or the adapter is not connected.
    #[error("adapter unavailable: {0}")]
    Unavailable(String),
    /// The adapter's transport (Redis...) failed.
    #[error("adapter transport failed")]
    Transport(#[source] Cause),
    /// The packet could not be encoded for other nodes.
    #[error("cannot encode the packet for other nodes")]
    Encode(#[source] Cause),
    /// The namespace is gone.
    #[error("namespace closed")]
    NamespaceClosed,
}

/// Why a packet could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments could not be encoded (a reserved event name such as
    /// `disconnect`, a map with non-string keys...).
    #[error("cannot encode packet")]
    Encode(#[from] CodecError),
    /// The socket is disconnected or its session closed.
    #[error("socket disconnected")]
    Closed,
    /// The session's outbound queue was full: the session was closed, or
    /// the packet dropped, as the server's overflow policy says.
    #[error("client outbound queue full")]
    SlowClient,
    /// The adapter refused the broadcast.
    #[error("adapter error")]
    Adapter(#[from] AdapterError),
}

/// Why an acknowledgement was not received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer before the timeout (default 5 s).
    #[error("ack timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// The socket already waits for the configured maximum of acks.
    #[error("too many pending acks for this socket")]
    TooManyPending,
    /// The event could not be sent.
    #[error("cannot emit")]
    Emit(#[from] EmitError),
    /// The answer did not deserialize into the requested type.
    #[error("cannot decode ack")]
    Decode(#[from] CodecError),
}
