"""Python websockets server for the interop tests: binds 127.0.0.1 port 0, prints the port,
accepts subprotocol "b", and serves one connection at a time."""
import asyncio

import websockets

from peer_driver import Driver, emit, ready


async def main():
    driver = Driver()
    async with websockets.serve(
        driver.serve_connection, "127.0.0.1", 0, subprotocols=["b"], max_size=None
    ) as server:
        ready()
        emit("listening", port=server.sockets[0].getsockname()[1])
        await driver.run()


asyncio.run(main())
