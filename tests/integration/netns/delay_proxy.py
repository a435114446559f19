"""A TCP proxy that delays every byte by a fixed time in each direction.

This kernel has no netem, so one-way network delay is emulated here: bytes
read from one side are written to the other DELAY_MS later, in order, with no
limit on bandwidth (a long fat pipe).

usage: delay_proxy.py LISTEN_HOST:PORT TARGET_HOST:PORT DELAY_MS
Runs until killed. Only for loopback or test-namespace addresses."""

import asyncio
import sys
import time


async def pump(reader, writer, delay):
    q = asyncio.Queue()

    async def feed():
        while True:
            data = await reader.read(65536)
            await q.put((time.monotonic() + delay, data))
            if not data:
                return

    async def drain():
        while True:
            due, data = await q.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(feed(), drain())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(listen, target, delay):
    lh, lp = listen.rsplit(":", 1)
    th, tp = target.rsplit(":", 1)

    async def handle(cr, cw):
        try:
            tr, tw = await asyncio.open_connection(th, int(tp))
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, tw, delay), pump(tr, cw, delay))

    server = await asyncio.start_server(handle, lh, int(lp))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0))
