// The Node.js side of benches/compare.sh: socket.io 4.8 with the load
// contract every compared server implements (see benches/peers/README.md):
//   namespace "/", WebSocket transport (polling also on, as by default)
//   "echo" (one argument)  -> "echo-response" with the same argument, to the sender
//   "bcast" (one argument) -> io.emit("bcast", argument) to every socket
// (any number of arguments is passed through; oxio-load sends one).
// Defaults otherwise (pingInterval 25 s, pingTimeout 20 s, maxHttpBufferSize 1e6).
//
// Usage: node server.js [PORT]   (or env PORT; default 3000; 0 = any free port)
// Prints "listening on <port>" once ready.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const port = Number(process.argv[2] ?? process.env.PORT ?? 3000);
const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    socket.emit("echo-response", ...args);
  });
  socket.on("bcast", (...args) => {
    io.emit("bcast", ...args);
  });
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log(`listening on ${httpServer.address().port}`);
});

const stop = () => {
  io.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
