//! How the client opens a TCP connection: the [`Connector`] trait and its
//! implementations for Tokio and embassy-net.

use crate::error::Error;
use embedded_io_async::{Read, Write};

/// Opens TCP connections (name resolution included). The client holds a
/// shared reference to its connector and one connection at a time.
///
/// ```
/// use oxio_client::Connector;
///
/// // A connector that always fails (useful in tests).
/// struct Offline;
/// impl Connector for Offline {
///     type Connection<'a> = oxio_client::testing::NoConnection;
///     type Error = ();
///     async fn connect<'a>(&'a self, _host: &str, _port: u16) -> Result<Self::Connection<'a>, ()> {
///         Err(())
///     }
/// }
/// let r = embassy_futures::block_on(Offline.connect("example.com", 80));
/// assert!(r.is_err());
/// ```
#[allow(async_fn_in_trait)]
pub trait Connector {
    /// An open TCP connection.
    type Connection<'a>: Read + Write
    where
        Self: 'a;
    /// Why a connection could not be opened (kept for
    /// [`Client::last_error`](crate::Client::last_error) as its `Debug` text).
    type Error: core::fmt::Debug;

    /// Whether the connections are encrypted: a connector with `TLS` takes
    /// only `wss://` / `https://` URLs, one without only `ws://` / `http://`.
    const TLS: bool = false;

    /// Resolves `host` (a name or an IP literal) and connects to `port`.
    async fn connect<'a>(
        &'a self,
        host: &str,
        port: u16,
    ) -> Result<Self::Connection<'a>, Self::Error>;

    /// The client error for a failed [`Connector::connect`] (kept as
    /// [`Client::last_error`](crate::Client::last_error)); by default
    /// [`Error::Connect`].
    fn connect_error(error: &Self::Error) -> Error {
        let _ = error;
        Error::Connect
    }
}

/// Test helpers.
pub mod testing {
    /// A connection type for connectors that never connect.
    #[derive(Debug)]
    pub struct NoConnection;

    impl embedded_io_async::ErrorType for NoConnection {
        type Error = core::convert::Infallible;
    }

    impl embedded_io_async::Read for NoConnection {
        async fn read(&mut self, _buf: &mut [u8]) -> Result<usize, Self::Error> {
            Ok(0)
        }
    }

    impl embedded_io_async::Write for NoConnection {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            Ok(buf.len())
        }
        async fn flush(&mut self) -> Result<(), Self::Error> {
            Ok(())
        }
    }
}

/// Tokio `TcpStream`s, through `embedded-io-adapters` (feature `tokio`).
///
/// ```
/// use oxio_client::{Connector, TokioConnector};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
/// let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
/// let port = listener.local_addr().unwrap().port();
/// assert!(rt.block_on(TokioConnector.connect("127.0.0.1", port)).is_ok());
/// ```
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioConnector;

#[cfg(feature = "tokio")]
impl Connector for TokioConnector {
    type Connection<'a> = embedded_io_adapters::tokio_1::FromTokio<tokio::net::TcpStream>;
    type Error = std::io::Error;

    async fn connect<'a>(
        &'a self,
        host: &str,
        port: u16,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        let stream = tokio::net::TcpStream::connect((host, port)).await?;
        stream.set_nodelay(true)?;
        Ok(embedded_io_adapters::tokio_1::FromTokio::new(stream))
    }
}

/// embassy-net TCP sockets from a [`TcpClient`](embassy_net::tcp::client::TcpClient)
/// pool, with DNS (feature `embassy-net`). The pool's buffers are the
/// caller's `'static` storage ([`TcpClientState`](embassy_net::tcp::client::TcpClientState)).
#[cfg(feature = "embassy-net")]
pub struct EmbassyNetConnector<'d, const N: usize, const TX: usize, const RX: usize> {
    stack: embassy_net::Stack<'d>,
    client: embassy_net::tcp::client::TcpClient<'d, N, TX, RX>,
}

#[cfg(feature = "embassy-net")]
impl<'d, const N: usize, const TX: usize, const RX: usize> EmbassyNetConnector<'d, N, TX, RX> {
    /// A connector over `stack`, with sockets from `state`.
    pub fn new(
        stack: embassy_net::Stack<'d>,
        state: &'d embassy_net::tcp::client::TcpClientState<N, TX, RX>,
    ) -> Self {
        EmbassyNetConnector {
            stack,
            client: embassy_net::tcp::client::TcpClient::new(stack, state),
        }
    }
}

/// Why an embassy-net connection failed.
#[cfg(feature = "embassy-net")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EmbassyNetError {
    /// The name did not resolve.
    Dns(embassy_net::dns::Error),
    /// No address for the name.
    NoAddress,
    /// The TCP connection failed (or no socket was free in the pool).
    Tcp(embassy_net::tcp::Error),
}

#[cfg(feature = "embassy-net")]
impl<const N: usize, const TX: usize, const RX: usize> Connector
    for EmbassyNetConnector<'_, N, TX, RX>
{
    type Connection<'a>
        = embassy_net::tcp::client::TcpConnection<'a, N, TX, RX>
    where
        Self: 'a;
    type Error = EmbassyNetError;

    async fn connect<'a>(
        &'a self,
        host: &str,
        port: u16,
    ) -> Result<Self::Connection<'a>, Self::Error> {
        use embedded_nal_async::TcpConnect;
        let addrs = self
            .stack
            .dns_query(host, embassy_net::dns::DnsQueryType::A)
            .await
            .map_err(EmbassyNetError::Dns)?;
        let ip = match addrs.first() {
            Some(embassy_net::IpAddress::Ipv4(v4)) => core::net::IpAddr::V4(*v4),
            #[allow(unreachable_patterns)]
            _ => return Err(EmbassyNetError::NoAddress),
        };
        self.client
            .connect(core::net::SocketAddr::new(ip, port))
            .await
            .map_err(EmbassyNetError::Tcp)
    }
}
