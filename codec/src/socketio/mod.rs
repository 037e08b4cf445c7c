//! Socket.IO v4 and v5: packets, events, acks and binary attachments.
