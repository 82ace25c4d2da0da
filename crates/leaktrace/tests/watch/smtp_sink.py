"""A loopback SMTP server for the watcher's tests (Debian's python3-aiosmtpd).

Usage: python3 smtp_sink.py PORT DIR -- writes each message received into DIR/<n>.eml (through
a temporary file renamed into place), prints "ready" once listening, stops when stdin closes.
"""
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        i = next(self.n)
        tmp = os.path.join(self.out, f".{i}.tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.out, f"{i}.eml"))
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    c = Controller(Sink(out), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    sys.stdin.read()
    c.stop()


if __name__ == "__main__":
    main()
