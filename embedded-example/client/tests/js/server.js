// socket.io 4.x server for the oxio-client tests. Prints "port N" once
// listening on 127.0.0.1 (port from argv[2], 0 = any); logs "log <json>" lines.
// Further arguments: "csr": connection state recovery on (the reference
// defaults); "msgpack": the server uses socket.io-msgpack-parser.
const { Server } = require("socket.io");
const http = require("http");

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer();
const options = process.argv.slice(3);
const csr = options.includes("csr");
const msgpack = options.includes("msgpack");
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  ...(csr ? { connectionStateRecovery: {} } : {}),
  ...(msgpack ? { parser: require("socket.io-msgpack-parser") } : {}),
});
const log = (entry) => console.log("log " + JSON.stringify(entry));

io.on("connection", (socket) => {
  log(["connect", socket.handshake.auth]);
  if (socket.recovered) log(["recovered", socket.id]);
  socket.emit("hello", socket.handshake.auth);
  socket.on("sensor", (v, ack) => { log(["sensor", v]); ack(); });
  socket.on("note", (v) => log(["note", v]));
  socket.on("add", (a, b, ack) => ack(a + b));
  socket.on("blob", (buf, ack) => {
    ack(buf.length);
    socket.emit("blob", "rev", Buffer.from(buf).reverse());
  });
  // Connection state recovery: the server drops the connection (a
  // recoverable "forced close"), then broadcasts `n` events the client misses.
  socket.on("drop", (n) => {
    log(["drop", socket.id]);
    socket.conn.close();
    setTimeout(() => {
      for (let i = 1; i <= n; i++) io.emit("news", i);
      log(["missed", n]);
    }, 100);
  });
  socket.on("ask", async () => {
    const answer = await socket.timeout(5000).emitWithAck("led", { on: true });
    log(["led ack", answer]);
  });
});
io.of("/admin").on("connection", (socket) => {
  socket.on("who", () => socket.emit("who", "admin"));
});
io.of("/closed").use((socket, next) => next(new Error("not authorized")));

httpServer.listen(port, "127.0.0.1", () => {
  console.log("port " + httpServer.address().port);
});
