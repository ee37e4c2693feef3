"""Python websockets client for the interop tests: `client.py`, then `connect` commands."""
import asyncio

import websockets

from peer_driver import Driver, emit, ready


async def main():
    driver = Driver()

    async def connect(command):
        if command["op"] != "connect":
            return False
        ws = await asyncio.wait_for(
            websockets.connect(command["url"], subprotocols=command["protocols"], max_size=None),
            10,
        )
        asyncio.ensure_future(driver.serve_connection(ws))
        return True

    ready()
    await driver.run(connect)


asyncio.run(main())
