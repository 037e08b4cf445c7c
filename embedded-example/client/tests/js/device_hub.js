// A device hub on the npm socket.io 4.8 server, equivalent to the oxio demo
// for what oxio_client::device::run does: `sensor` acked {"ok":true}, the
// binary `file` acked {"ok":true,"size":N}, and on that first `file` two
// `led` commands whose acks the device answers. Prints "port N" once
// listening on 127.0.0.1 (port from argv[2], 0 = any); logs "log <json>"
// lines (binary as lowercase hex).
const { Server } = require("socket.io");
const http = require("http");

const port = Number(process.argv[2] || 0);
const httpServer = http.createServer();
const io = new Server(httpServer);
const log = (entry) => console.log("log " + JSON.stringify(entry));

io.on("connection", (socket) => {
  log(["connect", socket.handshake.auth]);
  socket.on("sensor", (reading, ack) => {
    log(["sensor", reading]);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("file", async (name, data, ack) => {
    const bytes = Buffer.from(data);
    log(["file", name, bytes.toString("hex")]);
    ack({ ok: true, size: bytes.length });
    for (const on of [true, false]) {
      try {
        log(["led ack", on, await socket.timeout(5000).emitWithAck("led", { on })]);
      } catch (e) {
        log(["led error", on, String(e)]);
      }
    }
  });
  socket.on("disconnect", (reason) => log(["disconnect", reason]));
});

httpServer.listen(port, "127.0.0.1", () => {
  console.log("port " + httpServer.address().port);
});
