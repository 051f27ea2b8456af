#!/usr/bin/env python3
"""A loopback SMTP server for karajod's notification tests (aiosmtpd).

Usage: server.py MODE OUT_JSONL [--cert PEM --key PEM] [--user U --password P]

MODE is `tls` (implicit TLS on the listening socket), `starttls` (STARTTLS
required before anything else) or `plain`. Both TLS modes require AUTH with
the one user/password given. The server binds 127.0.0.1 on a free port (port
0, so no race with other tests), prints `PORT <n>` on stdout once it accepts
connections, and appends one JSON line per received message to OUT_JSONL:
envelope sender, recipients, raw data, and the parsed subject, To header and
decoded plain-text body (so tests need no MIME decoder). It runs until killed
or until stdin closes (the test process went away).
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    """aiosmtpd handler: records every message; one write per message."""

    def __init__(self, out_path):
        self.out_path = out_path

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
            "subject": str(msg.get("Subject", "")),
            "to": [str(a) for a in msg.get_all("To", [])],
            "content_type": msg.get_content_type(),
            "body": body.get_content() if body is not None else "",
            "raw": raw.decode("utf-8", "replace"),
        }
        with open(self.out_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


async def main():
    # Keep the test output about the test: aiosmtpd warns about our
    # deliberate choices (AUTH on implicit TLS) and its own deprecations.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["tls", "starttls", "plain"])
    p.add_argument("out")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user", default="karajo")
    p.add_argument("--password", default="secret")
    a = p.parse_args()

    handler = Recorder(a.out)
    ssl_ctx = None
    kwargs = {}
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs = dict(
            authenticator=authenticator_for(a.user, a.password),
            auth_required=True,
            # aiosmtpd only counts STARTTLS as TLS; with implicit TLS the
            # socket itself is encrypted, so AUTH is safe there too.
            auth_require_tls=(a.mode == "starttls"),
        )
        if a.mode == "tls":
            ssl_ctx = ctx
        else:
            kwargs.update(tls_context=ctx, require_starttls=True)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", **kwargs),
        host="127.0.0.1",
        port=0,
        ssl=ssl_ctx,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"PORT {port}", flush=True)

    # Exit when the parent closes our stdin, so a crashed test leaves no server.
    await loop.run_in_executor(None, sys.stdin.buffer.read)
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
