//! The benchmarks compare equal work: on every benchmark input, oxio, the
//! socketioxide crates and serde_json read the same values and write the
//! same bytes. If a peer's API changed meaning, this fails before a ratio
//! could mislead.

use bytes::Bytes;
use engineioxide_core::{Packet as EioxPacket, PacketParseError, ProtocolVersion};
use futures_util::Stream;
use http_body_util::Full;
use oxio_benches::{
    base64, binary_event, eio_text_packet, event, noise, payload_v3_binary, payload_v3_text,
    payload_v4, EventSize, Item, PayloadFixture, EVENT_NAME,
};
use oxio_codec::engineio::payload::{v3_binary, v3_text, v4};
use oxio_codec::engineio::{Data, Packet, Version};
use oxio_codec::socketio::{Binary, Decoder, Encoder, Reassembler};
use oxio_codec::{Instant, Limits};
use socketioxide_core::packet::{Packet as SioxPacket, PacketData};
use socketioxide_core::parser::{Parse, ParseConfig, ParseError, ParserState};
use socketioxide_core::{Str, Value};
use socketioxide_parser_common::CommonParser;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[test]
fn fixtures_have_the_advertised_sizes() {
    for size in EventSize::ALL {
        let e = event(size);
        assert_eq!(e.frame.len(), size.bytes(), "{}", size.label());
        assert_eq!(eio_text_packet(size.bytes()).len(), size.bytes());
    }
    assert_eq!(event(EventSize::B60).items.len(), 1);
    assert!(event(EventSize::K64).items.len() > 500);
    assert_eq!(payload_v4().body.len(), 999_999);
    assert_eq!(payload_v3_text().body.len(), 1_000_000);
    assert_eq!(payload_v3_binary().body.len(), 1_000_000);
}

#[test]
fn engineio_packets_decode_and_encode_alike() {
    for size in EventSize::ALL {
        let text = eio_text_packet(size.bytes());
        let ours = Packet::decode_text(text, Version::V4).expect("oxio");
        let theirs = EioxPacket::parse(ProtocolVersion::V4, Str::from(text)).expect("peer");
        assert_eq!(
            ours.data.as_text(),
            Some(theirs.clone().into_message().as_str())
        );
        let mut buf = vec![0u8; text.len()];
        let n = ours.encode_text(&mut buf, Version::V4).expect("fits");
        assert_eq!(buf.get(..n), Some(String::from(theirs).as_bytes()));
        assert_eq!(buf.get(..n), Some(text.as_bytes()));
    }
    for len in [1024, 64 * 1024] {
        let data = noise(len, 7);
        let text = format!("b{}", base64(data));
        let ours = Packet::decode_text(&text, Version::V4).expect("oxio");
        let Data::Base64(b64) = ours.data else {
            panic!("not base64")
        };
        let mut out = vec![0u8; len];
        assert_eq!(b64.decode_into(&mut out).expect("fits"), data);
        let theirs = EioxPacket::parse(ProtocolVersion::V4, Str::from(text.clone())).expect("peer");
        assert_eq!(theirs.clone().into_binary().as_ref(), data);
        let mut buf = vec![0u8; text.len()];
        let n = Packet::message_binary(data)
            .encode_text(&mut buf, Version::V4)
            .expect("fits");
        assert_eq!(buf.get(..n), Some(text.as_bytes()));
        assert_eq!(
            String::from(EioxPacket::Binary(Bytes::from_static(data))),
            text
        );
    }
}

/// engineioxide's payload stream, collected synchronously.
fn peer_payload(body: &'static [u8], protocol: ProtocolVersion, binary: bool) -> Vec<EioxPacket> {
    let content_type = binary.then(|| http::HeaderValue::from_static("application/octet-stream"));
    let stream = engineioxide_core::payload::decoder(
        Full::new(Bytes::from_static(body)),
        content_type.as_ref(),
        protocol,
        body.len() as u64,
    );
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(p)) => out.push(p.unwrap_or_else(|e: PacketParseError| panic!("{e}"))),
            Poll::Ready(None) => return out,
            Poll::Pending => panic!("a Full body never pends"),
        }
    }
}

fn assert_same_packets<'a, E: std::fmt::Debug>(
    fixture: &PayloadFixture,
    ours: impl Iterator<Item = Result<Packet<'a>, E>>,
    theirs: Vec<EioxPacket>,
) {
    let ours: Vec<&str> = ours
        .map(|p| p.expect("oxio").data.as_text().expect("text"))
        .collect();
    let theirs: Vec<String> = theirs
        .into_iter()
        .map(|p| p.into_message().into())
        .collect();
    assert_eq!(ours.len(), fixture.packets);
    assert_eq!(ours, theirs);
    assert_eq!(
        ours.iter().map(|s| s.len()).sum::<usize>(),
        fixture.data_bytes
    );
}

#[test]
fn payloads_split_alike() {
    let limits = Limits::default();
    let p = payload_v4();
    assert_same_packets(
        &p,
        v4::decode_bytes(p.body, &limits),
        peer_payload(p.body, ProtocolVersion::V4, false),
    );
    let p = payload_v3_text();
    assert_same_packets(
        &p,
        v3_text::decode_bytes(p.body, &limits),
        peer_payload(p.body, ProtocolVersion::V3, false),
    );
    let p = payload_v3_binary();
    assert_same_packets(
        &p,
        v3_binary::decode(p.body, &limits),
        peer_payload(p.body, ProtocolVersion::V3, true),
    );
}

#[test]
fn socketio_events_decode_alike() {
    let config = ParseConfig::default();
    let state = ParserState::default();
    for size in EventSize::ALL {
        let e = event(size);
        let p = Decoder::default().decode(e.frame).expect("oxio");
        assert_eq!(p.event_name().expect("event").as_str(), Some(EVENT_NAME));
        let ours: Vec<Item<'_>> = p.args().expect("oxio items");
        assert_eq!(ours, e.items);
        // The lazy row of `sio_header_event_name` reads the same name.
        let h = Decoder::default()
            .decode_header(e.frame)
            .expect("oxio lazy");
        assert_eq!(h.event_name(), p.event_name());
        assert_eq!(h.validate().expect("oxio lazy validate"), p);

        let packet = CommonParser
            .decode_str(&config, &state, Str::from(e.frame))
            .expect("peer");
        assert_eq!(packet.ns, "/");
        let PacketData::Event(mut value, None) = packet.inner else {
            panic!("not an event")
        };
        assert_eq!(CommonParser.read_event(&value).expect("event"), EVENT_NAME);
        let theirs: Vec<Item<'_>> = CommonParser
            .decode_value(&mut value, true)
            .expect("peer items");
        assert_eq!(theirs, e.items);

        let (name, items): (&str, Vec<Item<'_>>) =
            serde_json::from_str(e.json).expect("serde_json");
        assert_eq!((name, items), (EVENT_NAME, e.items.clone()));
    }
}

#[test]
fn socketio_events_encode_alike() {
    for size in EventSize::ALL {
        let e = event(size);
        let mut buf = vec![0u8; e.frame.len()];
        let out = Encoder::default()
            .event(&mut buf, "/", None, EVENT_NAME, &e.items)
            .expect("fits");
        assert_eq!(buf.get(..out.len), Some(e.frame.as_bytes()));

        let value = CommonParser
            .encode_value(&e.items, Some(EVENT_NAME))
            .expect("peer");
        let Value::Str(text, None) = CommonParser.encode(SioxPacket::event("/", value)) else {
            panic!("text packet without attachments")
        };
        assert_eq!(text.as_str(), e.frame);

        let json = serde_json::to_string(&(EVENT_NAME, &e.items)).expect("serde_json");
        assert_eq!(json, e.json);
    }
}

#[test]
fn binary_events_reassemble_alike() {
    let fixture = binary_event();
    let [a0, a1] = fixture.attachments;
    let now = Instant::from_millis(0);
    let mut r: Reassembler<&str, &[u8], heapless::Vec<&[u8], 2>> =
        Reassembler::new(Decoder::default());
    assert!(r.on_text(fixture.frame, now).expect("header").is_none());
    assert!(r.on_binary(a0, now).expect("first").is_none());
    let done = r.on_binary(a1, now).expect("second").expect("complete");
    let (x, y): (Binary<'_>, Binary<'_>) = done.packet().expect("packet").args().expect("args");
    assert_eq!((x.0, y.0), (a0, a1));

    let config = ParseConfig::default();
    let state = ParserState::default();
    assert!(matches!(
        CommonParser.decode_str(&config, &state, Str::from(fixture.frame)),
        Err(ParseError::NeedsMoreBinaryData)
    ));
    assert!(matches!(
        CommonParser.decode_bin(&config, &state, Bytes::from_static(a0)),
        Err(ParseError::NeedsMoreBinaryData)
    ));
    let p = CommonParser
        .decode_bin(&config, &state, Bytes::from_static(a1))
        .expect("complete");
    let PacketData::BinaryEvent(mut value, None) = p.inner else {
        panic!("not a binary event")
    };
    assert_eq!(CommonParser.read_event(&value).expect("event"), "upload");
    let (x, y): (Bytes, Bytes) = CommonParser.decode_value(&mut value, true).expect("args");
    assert_eq!((x.as_ref(), y.as_ref()), (a0, a1));
}
