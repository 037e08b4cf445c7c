// Node's socket.io 4.8 server with connection state recovery on: the
// reference the recovery tests (socketio/tests/recovery_node.rs) run
// csr_client.js against, next to oxio's same app (recovery_node.rs `app`).
//
// Usage: node csr_server.js <maxDisconnectionDuration ms> [json|msgpack]
// Prints {"step":"listening","port":N}, then serves until killed.
//
// The app: `/` joins the rooms of auth.rooms (when not recovered) and
// stores auth.user as socket.data; a control client drives it:
//   kill(sid)                     socket.conn.close() (transport closes)
//   send({to, ev, args})          io.to(to).emit(ev, ...args)
//   sendSocket({sid, ev, args})   emit on the socket object kept by id,
//                                 connected or not
//   volatile({to, ev, args})      io.to(to).volatile.emit(...)
//   ask({to, ev})                 io.to(to).timeout(200).emit(ev, cb)
//   sendBin({to, ev})             io.to(to).emit(ev, Buffer [1,2,3])
// and a socket asks about itself:
//   whoami()                      ack {id, recovered, rooms (sorted), data}
"use strict";

const { Server } = require("socket.io");
const http = require("http");

const duration = Number(process.argv[2] || 120000);
// argv[3] "msgpack": the server speaks socket.io-msgpack-parser.
const parser = process.argv[3] === "msgpack" ? { parser: require("socket.io-msgpack-parser") } : {};
const server = http.createServer();
const io = new Server(server, Object.assign({
  connectionStateRecovery: { maxDisconnectionDuration: duration },
}, parser));
const kept = new Map();

io.on("connection", (socket) => {
  if (!socket.recovered) {
    const auth = socket.handshake.auth || {};
    if (Array.isArray(auth.rooms)) socket.join(auth.rooms);
    socket.data = { user: auth.user === undefined ? null : auth.user };
  }
  kept.set(socket.id, socket);
  socket.on("kill", (sid, cb) => {
    const s = kept.get(sid);
    if (s) s.conn.close();
    cb(!!s);
  });
  socket.on("send", ({ to, ev, args }, cb) => {
    io.to(to).emit(ev, ...args);
    cb(true);
  });
  socket.on("sendSocket", ({ sid, ev, args }, cb) => {
    const s = kept.get(sid);
    if (s) s.emit(ev, ...args);
    cb(!!s);
  });
  socket.on("volatile", ({ to, ev, args }, cb) => {
    io.to(to).volatile.emit(ev, ...args);
    cb(true);
  });
  socket.on("ask", ({ to, ev }, cb) => {
    io.to(to).timeout(200).emit(ev, () => {});
    cb(true);
  });
  socket.on("sendBin", ({ to, ev }, cb) => {
    io.to(to).emit(ev, Buffer.from([1, 2, 3]));
    cb(true);
  });
  socket.on("whoami", (cb) => {
    cb({ id: socket.id, recovered: socket.recovered, rooms: [...socket.rooms].sort(), data: socket.data });
  });
});

server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ step: "listening", port: server.address().port }));
});
