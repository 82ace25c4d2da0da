"""A real SMTP server over TLS for the tests (Debian's python3-aiosmtpd).

Usage: python3 tls_sink.py OUT_DIR CERT_PEM KEY_PEM starttls|tls
Listens on 127.0.0.1 on a free port and prints that port on stdout.
- starttls: plain SMTP that offers STARTTLS and refuses MAIL before it
  (aiosmtpd's require_starttls=True: "530 Must issue a STARTTLS command first");
- tls: TLS from the first byte (SMTPS).
Each accepted message is written to OUT_DIR/<n>.eml, first line `X-Test-TLS: starttls|tls|none`
(how this message's session was protected), then the message as received, before the 250 reply.
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        if session.ssl is not None:
            how = "starttls"
        elif server.transport.get_extra_info("sslcontext") is not None:
            how = "tls"
        else:
            how = "none"
        self.n += 1
        path = os.path.join(self.out, "%08d.eml" % self.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Test-TLS: " + how + "\r\n").encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"


async def main():
    out, cert, key, mode = sys.argv[1:5]
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    sink = Sink(out)
    loop = asyncio.get_running_loop()
    if mode == "starttls":
        factory = lambda: SMTP(sink, hostname="tls-sink.test", tls_context=ctx, require_starttls=True)
        server = await loop.create_server(factory, "127.0.0.1", 0)
    else:
        factory = lambda: SMTP(sink, hostname="tls-sink.test")
        server = await loop.create_server(factory, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
