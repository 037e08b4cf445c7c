//! Engine.IO v3 and v4: packets, polling payloads and the handshake.
