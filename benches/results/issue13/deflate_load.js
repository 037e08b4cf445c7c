// permessage-deflate load for RESULTS.md "Issue 13": npm `ws` (the client
// socket.io-client uses in Node) opening Socket.IO v5 connections to
// oxio-bench-server, with or without the permessage-deflate offer.
//
//   NODE_PATH=std-server/testkit/js/node_modules node deflate_load.js \
//       <port> <clients> <deflate:0|1|2|3> <mode:idle|echo> [payload] [messages per client]
//
// deflate: 0 no offer, 1 ws's default offer, 2 with server/client
// no_context_takeover, 3 with server_max_window_bits=10.
// idle: every client connects, joins /, and echoes one 2 KB event (so the
// server holds both deflate contexts when deflate was agreed), then all stay
// open until SIGTERM; prints {"connected":N,"extensions":...} once ready.
// echo: each client sends `messages` `echo` events with `payload` ("small":
// {"t":1,"p":"xxxx"}, or a number of bytes of repeated English text) one
// after the other; prints wire bytes (TCP, both directions) per round trip.
"use strict";

const WebSocket = require("ws");
const [port, clients, deflate, mode, payload = "small", count = "1000"] = process.argv.slice(2);
const url = `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`;
const WORDS = "the quick brown fox jumps over the lazy dog while sensors report temperature humidity and pressure ";

function arg() {
  if (payload === "small") return { t: 1, p: "x".repeat(32) };
  return WORDS.repeat(Math.ceil(+payload / WORDS.length)).slice(0, +payload);
}

function open() {
  return new Promise((resolve, reject) => {
    const offers = {
      0: false,
      1: { threshold: 1024 },
      // No context takeover either way: the server frees both contexts after each message.
      2: { threshold: 1024, serverNoContextTakeover: true, clientNoContextTakeover: true },
      // A 10-bit server window: a smaller compressor.
      3: { threshold: 1024, serverMaxWindowBits: 10 },
    };
    const ws = new WebSocket(url, { perMessageDeflate: offers[deflate] });
    const waiting = [];
    ws.on("message", (data) => {
      const s = data.toString();
      if (s === "2") return ws.send("3");
      if (s.startsWith("0")) return ws.send("40");
      if (s.startsWith("40")) return resolve({ ws, waiting });
      if (s.startsWith('42["echo-response"')) {
        const w = waiting.shift();
        if (w) w();
      }
    });
    ws.on("error", reject);
  });
}

function echo(c, text) {
  return new Promise((resolve) => {
    c.waiting.push(resolve);
    c.ws.send(text);
  });
}

async function main() {
  const conns = [];
  for (let i = 0; i < +clients; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(+clients, i + 50); j++) batch.push(open());
    conns.push(...(await Promise.all(batch)));
  }
  if (mode === "idle") {
    const text = `42["echo",${JSON.stringify(WORDS.repeat(21).slice(0, 2048))}]`;
    await Promise.all(conns.map((c) => echo(c, text)));
    console.log(JSON.stringify({ connected: conns.length, extensions: conns[0].ws.extensions }));
    process.on("SIGTERM", () => process.exit(0));
    setInterval(() => {}, 1000);
    return;
  }
  const text = `42["echo",${JSON.stringify(arg())}]`;
  const before = conns.reduce((n, c) => n + c.ws._socket.bytesRead + c.ws._socket.bytesWritten, 0);
  const start = process.hrtime.bigint();
  await Promise.all(
    conns.map(async (c) => {
      for (let k = 0; k < +count; k++) await echo(c, text);
    })
  );
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const after = conns.reduce((n, c) => n + c.ws._socket.bytesRead + c.ws._socket.bytesWritten, 0);
  const trips = +clients * +count;
  console.log(
    JSON.stringify({
      extensions: conns[0].ws.extensions,
      message_bytes: text.length,
      round_trips: trips,
      wire_bytes_per_round_trip: (after - before) / trips,
      ms,
    })
  );
  conns.forEach((c) => c.ws.terminate());
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
