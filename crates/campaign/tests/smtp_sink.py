"""A real SMTP server for the campaign tests (Debian's python3-aiosmtpd).

Usage: python3 smtp_sink.py OUT_DIR [--quickack]
Listens on 127.0.0.1 on a free port and prints that port on stdout. Each accepted message is
written to OUT_DIR/<n>.eml (first line `X-Envelope-To: <recipients>`, then the message as
received) *before* the 250 reply, so a message the client saw accepted is always on disk.
Recipients whose local part starts with `reject` get 550 at RCPT; `defer`, 451.

--quickack: acknowledge the message body at once (TCP_QUICKACK, Linux) instead of after the
kernel's 40 ms delayed-ACK timer. lettre writes the body and the final `.` in two writes on a
socket without TCP_NODELAY, so without this every message waits for that timer (Nagle meets
delayed ACK): 10,000 messages take ~9 minutes instead of ~1. Real servers delay their ACKs
too; bench/notify.sh measures both.
"""

import asyncio
import os
import socket
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 mailbox unavailable"
        if local.startswith("defer"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        path = os.path.join(self.out, "%08d.eml" % self.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 accepted"


class QuickAckSMTP(SMTP):
    def data_received(self, data):
        # Re-armed on every arrival: the kernel leaves quick-ACK mode on its own.
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        super().data_received(data)


async def main():
    sink = Sink(sys.argv[1])
    server_class = QuickAckSMTP if "--quickack" in sys.argv[2:] else SMTP
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: server_class(sink, hostname="sink.test", enable_SMTPUTF8=True), "127.0.0.1", 0
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
