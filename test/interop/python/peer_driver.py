"""Drives one Python `websockets` connection at a time for the interop tests.

Commands arrive on stdin and events leave on stdout, one JSON object per line:
  commands: send {binary, b64} | send_fragments {binary, parts: [b64]} | ping {b64} | close {code, reason} | abort | quit
            (client.py adds connect {url, protocols})
  events:   ready {websockets} | listening {port} | open {protocol} | message {binary, b64}
            | pong {b64} | closed {code, reason, wasClean} | error {message}
Payloads travel as base64 so every byte can be compared on the Node side.
Written against the asyncio API that websockets 10.x to 13.x (and 14+) all provide.
"""
import asyncio
import base64
import json
import sys

import websockets

MAX_LINE = 16 * 1024 * 1024


def emit(event, **fields):
    fields["ev"] = event
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def b64(data):
    return base64.b64encode(data).decode("ascii")


class Driver:
    def __init__(self):
        self.ws = None

    async def serve_connection(self, ws):
        """Reports everything `ws` receives until it is closed, then reports the close."""
        self.ws = ws
        emit("open", protocol=ws.subprotocol or "")
        rcvd = sent = None
        try:
            while True:
                data = await ws.recv()
                if isinstance(data, str):
                    emit("message", binary=False, b64=b64(data.encode("utf-8")))
                else:
                    emit("message", binary=True, b64=b64(bytes(data)))
        except websockets.ConnectionClosed as closed:
            rcvd, sent = closed.rcvd, closed.sent
        await ws.wait_closed()
        self.ws = None
        emit(
            "closed",
            code=rcvd.code if rcvd is not None else 1006,
            reason=rcvd.reason if rcvd is not None else "",
            wasClean=rcvd is not None and sent is not None,
        )

    async def pinged(self, ws, payload):
        waiter = await ws.ping(payload)
        await waiter
        # websockets resolves a ping's waiter only for a pong with the identical payload.
        emit("pong", b64=b64(payload))

    async def handle(self, command):
        op = command["op"]
        ws = self.ws
        if op == "send":
            data = base64.b64decode(command["b64"])
            await ws.send(data if command["binary"] else data.decode("utf-8"))
        elif op == "send_fragments":
            parts = [base64.b64decode(part) for part in command["parts"]]
            if not command["binary"]:
                # websockets fragments text as str chunks, so split on characters, not bytes.
                text = b"".join(parts).decode("utf-8")
                step = max(1, len(text) // len(parts))
                parts = [text[i : i + step] for i in range(0, len(text), step)]
            # An iterable makes websockets send one frame per item (and an empty final frame).
            await ws.send(iter(parts))
        elif op == "ping":
            asyncio.ensure_future(self.pinged(ws, base64.b64decode(command["b64"])))
        elif op == "close":
            asyncio.ensure_future(ws.close(code=command["code"], reason=command["reason"]))
        elif op == "abort":
            if ws is not None:
                ws.transport.abort()
        else:
            raise ValueError("unknown command " + op)

    async def run(self, extra=None):
        """Reads commands until stdin ends or `quit`; `extra` handles script-specific ones."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            command = json.loads(line)
            if command["op"] == "quit":
                return
            try:
                if extra is None or not await extra(command):
                    await self.handle(command)
            except Exception as error:  # reported to the test, which fails with it
                emit("error", message="%s: %r" % (command["op"], error))


def ready():
    emit("ready", websockets=websockets.__version__, python=sys.version.split()[0])
