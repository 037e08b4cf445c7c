//! Transport names (the `transport` query value and the handshake's
//! `upgrades` list), and a small allocation-free set of them.

/// An Engine.IO transport.
///
/// ```
/// use oxio_codec::engineio::Transport;
///
/// assert_eq!(Transport::from_name("websocket"), Some(Transport::WebSocket));
/// assert_eq!(Transport::WebTransport.as_str(), "webtransport");
/// assert_eq!(Transport::from_name("flashsocket"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Transport {
    /// HTTP long-polling (`polling`).
    Polling,
    /// WebSocket (`websocket`).
    WebSocket,
    /// WebTransport (`webtransport`, "EIO v4.1").
    WebTransport,
}

impl Transport {
    /// Every transport, in the order [`Upgrades`] lists them.
    pub const ALL: [Transport; 3] = [
        Transport::Polling,
        Transport::WebSocket,
        Transport::WebTransport,
    ];

    /// The transport with this exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Transport> {
        match name {
            "polling" => Some(Transport::Polling),
            "websocket" => Some(Transport::WebSocket),
            "webtransport" => Some(Transport::WebTransport),
            _ => None,
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::WebSocket => "websocket",
            Transport::WebTransport => "webtransport",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Transport::Polling => 1,
            Transport::WebSocket => 2,
            Transport::WebTransport => 4,
        }
    }
}

/// The set of transports a handshake offers as upgrades. No allocation;
/// iteration and encoding follow [`Transport::ALL`] order.
///
/// ```
/// use oxio_codec::engineio::{Transport, Upgrades};
///
/// let u = Upgrades::WEBSOCKET.with(Transport::WebTransport);
/// assert!(u.contains(Transport::WebSocket));
/// assert_eq!(u.len(), 2);
/// let mut it = u.iter();
/// assert_eq!(it.next(), Some(Transport::WebSocket));
/// assert_eq!(it.next(), Some(Transport::WebTransport));
/// assert_eq!(it.next(), None);
/// assert!(Upgrades::NONE.is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Upgrades {
    bits: u8,
}

impl Upgrades {
    /// No upgrades (`[]`): the session opened on WebSocket, or upgrades are off.
    pub const NONE: Upgrades = Upgrades { bits: 0 };
    /// `["websocket"]`: the usual answer to a polling handshake.
    pub const WEBSOCKET: Upgrades = Upgrades { bits: 2 };

    /// This set plus `transport`.
    pub const fn with(self, transport: Transport) -> Upgrades {
        Upgrades {
            bits: self.bits | transport.bit(),
        }
    }

    /// Adds `transport`.
    pub fn insert(&mut self, transport: Transport) {
        *self = self.with(transport);
    }

    /// Whether `transport` is offered.
    pub const fn contains(self, transport: Transport) -> bool {
        self.bits & transport.bit() != 0
    }

    /// Number of transports offered.
    pub const fn len(self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether nothing is offered.
    pub const fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The offered transports, in [`Transport::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Transport> {
        Transport::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }
}

impl FromIterator<Transport> for Upgrades {
    fn from_iter<I: IntoIterator<Item = Transport>>(iter: I) -> Self {
        iter.into_iter().fold(Upgrades::NONE, Upgrades::with)
    }
}
