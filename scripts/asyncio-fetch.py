#!/usr/bin/env python3
"""The comparison of issue 9: a Python asyncio client that fetches
transactions one request each, TASKS at once, as the issue's reference run
did (1,000 tasks, 1M transactions, about 20 minutes against a server adding
200 ms per request).

It uses the standard library only (this machine cannot reach PyPI, so no
aiohttp): every task holds one keep-alive HTTP/1.1 connection and sends
GET /v1/transactions/{id}?trace=true, reads the answer (Content-Length or
chunked) and parses its JSON, as a client keeping the data would. scripts/bench-export.sh
runs it beside `dualchain export --per-tx` against the same node.

    scripts/asyncio-fetch.py --node http://127.0.0.1:8545 --ids ids.txt --tasks 1000

It prints one JSON object: requests, seconds, requests_per_second, errors.
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.parse


async def read_chunked(reader):
    """Reads a chunked body (a Go server sends one when the answer is past
    its buffer and has no Content-Length)."""
    parts = []
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()  # the empty trailer
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()  # the chunk's CRLF


async def worker(host, port, ids, counts):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while ids:
            tx = ids.pop()
            writer.write(
                f"GET /v1/transactions/{tx}?trace=true HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
            )
            status = await reader.readline()
            length, chunked = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
            body = await read_chunked(reader) if chunked else await reader.readexactly(length)
            if not status.startswith(b"HTTP/1.1 200"):
                counts["errors"] += 1
                continue
            json.loads(body)
            counts["requests"] += 1
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--node", required=True, help="the node's API, e.g. http://127.0.0.1:8545")
    p.add_argument("--ids", required=True, help="a file of transaction ids, one a line")
    p.add_argument("--tasks", type=int, default=1000, help="concurrent tasks, each with its connection")
    a = p.parse_args()
    u = urllib.parse.urlsplit(a.node)
    with open(a.ids) as f:
        ids = [line.strip() for line in f if line.strip()]
    ids.reverse()  # pop() takes them in file order
    total = len(ids)
    counts = {"requests": 0, "errors": 0}
    start = time.monotonic()
    await asyncio.gather(*(worker(u.hostname, u.port, ids, counts) for _ in range(min(a.tasks, total))))
    secs = time.monotonic() - start
    json.dump({"ids": total, "requests": counts["requests"], "errors": counts["errors"],
               "seconds": secs, "requests_per_second": counts["requests"] / secs}, sys.stdout)
    print()


if __name__ == "__main__":
    asyncio.run(main())
