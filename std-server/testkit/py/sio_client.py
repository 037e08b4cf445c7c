"""Drives the PyPI python-socketio client against an oxio server
(tests/sio_interop_python.rs) and prints what it observed, one JSON object
per line: {"step": "<name>", ...}; the last line is {"step": "done"}, a
failure is {"error": "..."}. Bytes are printed as {"bin": [...]}.

Usage: python sio_client.py <http://host:port> <websocket|polling> [default|msgpack]
(the third argument is python-socketio's `serializer`: msgpack for
tests/sio_interop_msgpack.rs)
"""

import json
import sys
import threading
import traceback

import socketio


def out(step, **data):
    print(json.dumps(dict(step=step, **data)), flush=True)


def show(v):
    if isinstance(v, (bytes, bytearray)):
        return {"bin": list(v)}
    if isinstance(v, (list, tuple)):
        return [show(x) for x in v]
    if isinstance(v, dict):
        return {k: show(x) for k, x in v.items()}
    return v


def as_list(reply):
    """`call` returns one value for one ack argument, a tuple for several."""
    if isinstance(reply, tuple):
        return list(reply)
    return [reply]


def main():
    url, mode = sys.argv[1], sys.argv[2]
    serializer = sys.argv[3] if len(sys.argv) > 3 else "default"
    sio = socketio.Client(reconnection=False, serializer=serializer)
    hello = threading.Event()
    bin_back = threading.Event()
    seen = {}

    @sio.on("hello")
    def on_hello(sid, auth):
        seen["hello"] = {"id_matches": sid == sio.get_sid("/"), "auth": auth}
        hello.set()

    @sio.on("question")
    def on_question(n):
        return n + 1  # the return value is the ack

    @sio.on("bin-question")
    def on_bin_question(data):
        return bytes(reversed(data))

    @sio.on("bin-back")
    def on_bin_back(*args):
        seen["bin-back"] = show(list(args))
        bin_back.set()

    sio.connect(url, auth={"token": "py"}, transports=[mode], wait_timeout=5)
    out("connect", transport=sio.transport(), sid_len=len(sio.get_sid("/") or ""))
    if not hello.wait(5):
        raise RuntimeError("no hello")
    out("hello", **seen["hello"])

    out("echo", args=show(as_list(sio.call("echo", (1, "2", {"3": [True]}, None, [1.5, -2], "é😀"), timeout=5))))
    out("ask", args=show(as_list(sio.call("ask", 41, timeout=5))))
    reply = sio.call(
        "bin",
        ({"id": 7, "file": b"\x01\x02\x03", "parts": [b"\x04", b"\x05\x06"]}, b"\x09"),
        timeout=5,
    )
    out("bin-ack", args=show(as_list(reply)))
    if not bin_back.wait(5):
        raise RuntimeError("no bin-back")
    out("bin-back", args=seen["bin-back"])
    out("ask-bin", args=show(as_list(sio.call("ask-bin", timeout=5))))

    # An event without an ack, answered by a broadcast that includes it.
    got = threading.Event()

    @sio.on("many")
    def on_many(*args):
        seen["many"] = list(args)
        got.set()

    sio.call("join", (["py"],), timeout=5)
    sio.emit("to-many", (["py"], "to-me"))
    if not got.wait(5):
        raise RuntimeError("no broadcast")
    out("many", args=seen["many"])

    sio.disconnect()
    out("disconnected", connected=sio.connected)


if __name__ == "__main__":
    import os

    timer = threading.Timer(20, lambda: (print(json.dumps({"error": "timed out"}), flush=True), os._exit(1)))
    timer.daemon = True
    timer.start()
    try:
        main()
        out("done")
        code = 0
    except Exception:  # noqa: BLE001 - reported to the Rust test
        print(json.dumps({"error": traceback.format_exc()}), flush=True)
        code = 1
    # python-socketio's background threads would keep the process alive.
    os._exit(code)
