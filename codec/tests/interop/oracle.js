#!/usr/bin/env node
// The reference side of codec/tests/node_interop.rs.
//
// Reads one JSON request per line on stdin and writes one JSON response per
// line on stdout, in order: `{"ok": <result>}` or `{"err": "<thrown message>"}`.
// The real npm parsers (pinned in package.json) do the work; this file only
// converts values in and out.
//
// Values cross the pipe in forms that lose nothing (a JSON round trip would
// round numbers, reorder integer-like keys, and could not carry bytes or
// lone surrogates).
//
// Requests carry "tagged values" (tv):
//   null, true, false, "string"   themselves
//   [tv, ...]                     an array
//   {"n": "<16 hex digits>"}      a number, as the big-endian bits of its f64
//   {"o": [[key, tv], ...]}       an object, keys in the given order
//   {"b": "<base64>"}             a Buffer
//   {"w": [u16, ...]}             a string that is not well-formed UTF-16
//                                 (lone surrogates), as its code units
//   {"u": 1}                      undefined
//
// Answers carry values "flat" (ft): the same leaf tokens, in a flat array,
// pre-order, with {"a": n} opening an array of n values and {"o": n} an
// object of n (key, value) token pairs, so that a deeply nested value does
// not nest the answer (serde_json on the Rust side stops at depth 128).
"use strict";

const readline = require("readline");
const sio = require("socket.io-parser");
const eio = require("engine.io-parser");
const eio3 = require("engine.io-parser-v3");
const msgpackParser = require("socket.io-msgpack-parser");

function numFromHex(hex) {
  const buf = Buffer.from(hex, "hex");
  if (buf.length !== 8) throw new Error("bad number bits: " + hex);
  return buf.readDoubleBE(0);
}

function numToHex(n) {
  const buf = Buffer.alloc(8);
  buf.writeDoubleBE(n, 0);
  return buf.toString("hex");
}

function fromTv(tv) {
  if (tv === null || typeof tv === "boolean" || typeof tv === "string") return tv;
  if (Array.isArray(tv)) return tv.map(fromTv);
  if (typeof tv !== "object") throw new Error("bad tagged value: " + JSON.stringify(tv));
  if ("n" in tv) return numFromHex(tv.n);
  if ("b" in tv) return Buffer.from(tv.b, "base64");
  if ("w" in tv) return String.fromCharCode(...tv.w);
  if ("u" in tv) return undefined;
  if ("o" in tv) {
    const obj = {};
    for (const [key, v] of tv.o) {
      const k = fromTv(key);
      // defineProperty, so that "__proto__" is an own key as JSON.parse makes it.
      Object.defineProperty(obj, k, {
        value: fromTv(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return obj;
  }
  throw new Error("bad tagged value: " + JSON.stringify(tv));
}

function isWellFormed(s) {
  return typeof s.isWellFormed === "function"
    ? s.isWellFormed()
    : !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// Pushes the flat tokens of `v` onto `out` (and returns `out`).
function toFlat(v, out = []) {
  if (Array.isArray(v)) {
    out.push({ a: v.length });
    for (const item of v) toFlat(item, out);
  } else if (v !== null && typeof v === "object" && !Buffer.isBuffer(v) && !(v instanceof ArrayBuffer) && !ArrayBuffer.isView(v)) {
    const keys = Object.keys(v);
    out.push({ o: keys.length });
    for (const k of keys) {
      out.push(toTv(k));
      toFlat(v[k], out);
    }
  } else {
    out.push(toTv(v));
  }
  return out;
}

// The tagged form of a leaf (arrays and objects only for toFlat's sake).
function toTv(v) {
  if (v === null || typeof v === "boolean") return v;
  if (v === undefined) return { u: 1 };
  if (typeof v === "string") {
    if (isWellFormed(v)) return v;
    const w = [];
    for (let i = 0; i < v.length; i++) w.push(v.charCodeAt(i));
    return { w };
  }
  if (typeof v === "number") return { n: numToHex(v) };
  if (Buffer.isBuffer(v)) return { b: v.toString("base64") };
  if (v instanceof ArrayBuffer) return { b: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { b: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  throw new Error("cannot tag a " + typeof v);
}

// A frame on the pipe: a string is a text frame, {"b": base64} a binary one.
function frameFromWire(f) {
  return typeof f === "string" ? f : Buffer.from(f.b, "base64");
}

function frameToWire(f) {
  if (typeof f === "string") return toTv(f);
  return { b: Buffer.from(f.buffer || f, f.byteOffset || 0, f.byteLength).toString("base64") };
}

function packetToWire(p) {
  const out = { type: p.type, nsp: p.nsp };
  out.id = p.id === undefined ? null : toTv(p.id);
  out.has_data = p.data !== undefined;
  if (p.data !== undefined) out.data = toFlat(p.data);
  return out;
}

// An Engine.IO packet from the wire: {"type": "message", "data": string | {"b": ...} | absent}.
function eioPacketFromWire(p) {
  const out = { type: p.type };
  if (p.data !== undefined && p.data !== null) out.data = frameFromWire(p.data);
  return out;
}

function eioPacketToWire(p) {
  const out = { type: p.type };
  if (p.data !== undefined) out.data = frameToWire(p.data);
  return out;
}

function sync(fn) {
  // The parsers call back synchronously; make sure of it.
  let result;
  let called = false;
  fn((r) => {
    result = r;
    called = true;
  });
  if (!called) throw new Error("callback was not called synchronously");
  return result;
}

const ops = {
  // socket.io-parser Encoder.encode: {"packet": {type, nsp, id?, data?: tv}}
  sio_encode(req) {
    const p = req.packet;
    const packet = { type: p.type, nsp: p.nsp };
    if (p.id !== undefined && p.id !== null) packet.id = p.id;
    if (p.data !== undefined) packet.data = fromTv(p.data);
    return new sio.Encoder().encode(packet).map(frameToWire);
  },

  // socket.io-parser Decoder.add over a sequence of frames.
  // {"frames": [text | {"b": base64}], "auto_attach": bool}
  // With auto_attach, after each text frame that leaves the decoder waiting
  // for N attachments, N binary frames are added: attachment i is [i, 0xAB].
  sio_decode(req) {
    const decoder = new sio.Decoder();
    const packets = [];
    decoder.on("decoded", (p) => packets.push(packetToWire(p)));
    let error = null;
    let errorAt = null;
    let attached = 0;
    const frames = req.frames.map(frameFromWire);
    for (let i = 0; i < frames.length && error === null; i++) {
      try {
        decoder.add(frames[i]);
        if (req.auto_attach && decoder.reconstructor) {
          const n = decoder.reconstructor.reconPack.attachments;
          attached = n;
          for (let k = 0; k < n; k++) decoder.add(Buffer.from([k & 0xff, 0xab]));
        }
      } catch (e) {
        error = String(e && e.message);
        errorAt = i;
      }
    }
    const pending = decoder.reconstructor ? decoder.reconstructor.reconPack.attachments : 0;
    return { packets, error, error_at: errorAt, pending, attached };
  },

  // socket.io-msgpack-parser Encoder.encode: {"fields": [[key, tv], ...]},
  // inserted in the given order (the order the Node server builds its
  // packets in); answers the one binary frame as {"b": base64}.
  mp_encode(req) {
    const packet = {};
    for (const [k, v] of req.fields) packet[k] = fromTv(v);
    const frames = new msgpackParser.Encoder().encode(packet);
    if (frames.length !== 1) throw new Error("expected one frame, got " + frames.length);
    return frameToWire(frames[0]);
  },

  // socket.io-msgpack-parser Decoder.add of one binary frame {"frame": {"b": base64}}:
  // the packet (as sio_decode answers packets) or the thrown message.
  mp_decode(req) {
    const decoder = new msgpackParser.Decoder();
    let packet = null;
    decoder.on("decoded", (p) => {
      packet = p;
    });
    try {
      decoder.add(frameFromWire(req.frame));
    } catch (e) {
      return { error: String(e && e.message) };
    }
    const out = packetToWire(packet);
    out.type = toTv(packet.type);
    out.nsp = toTv(packet.nsp);
    return { packet: out };
  },

  // The installed versions, to catch a stale node_modules.
  versions() {
    const fs = require("fs");
    const path = require("path");
    const version = (dir) =>
      JSON.parse(fs.readFileSync(path.join(__dirname, "node_modules", dir, "package.json"), "utf8")).version;
    return {
      "socket.io-parser": version("socket.io-parser"),
      "engine.io-parser": version("engine.io-parser"),
      "engine.io-parser-v3": version("engine.io-parser-v3"),
      "socket.io-msgpack-parser": version("socket.io-msgpack-parser"),
      "notepack.io": version("notepack.io"),
    };
  },

  // JSON.stringify of a tagged value.
  stringify(req) {
    const out = JSON.stringify(fromTv(req.value));
    return out === undefined ? null : out;
  },

  // JSON.parse, answered flat (or the thrown message).
  parse(req) {
    return toFlat(JSON.parse(req.text));
  },

  // engine.io-parser 5 encodePacket(packet, supportsBinary)
  eio_encode_packet(req) {
    return frameToWire(sync((cb) => eio.encodePacket(eioPacketFromWire(req.packet), !!req.supports_binary, cb)));
  },

  // engine.io-parser 5 encodePayload(packets)
  eio_encode_payload(req) {
    return sync((cb) => eio.encodePayload(req.packets.map(eioPacketFromWire), cb));
  },

  // engine.io-parser 5 decodePayload(payload, "nodebuffer")
  eio_decode_payload(req) {
    return eio.decodePayload(req.payload, "nodebuffer").map(eioPacketToWire);
  },

  // engine.io-parser 2.2.1 encodePayload(packets, supportsBinary): a string,
  // or {"b": base64} for the binary (XHR2) form.
  eio3_encode_payload(req) {
    const packets = req.packets.map(eioPacketFromWire);
    return frameToWire(sync((cb) => eio3.encodePayload(packets, !!req.supports_binary, cb)));
  },

  // engine.io-parser 2.2.1 decodePayload(payload): every packet the
  // callback sees, in order (a parse error shows as {"type": "error"}).
  eio3_decode_payload(req) {
    const packets = [];
    eio3.decodePayload(frameFromWire(req.payload), "nodebuffer", (p) => {
      packets.push(eioPacketToWire(p));
    });
    return packets;
  },
};

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  let resp;
  try {
    const req = JSON.parse(line);
    const op = ops[req.op];
    if (!op) throw new Error("unknown op " + req.op);
    resp = { ok: op(req) };
  } catch (e) {
    resp = { err: String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(resp) + "\n");
});
