"""The `firstring` command: setup, serve, worker, demo data, tokens, imports and benchmarks."""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Sequence


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstring.settings")
    import django

    django.setup()


def cmd_setup(args: argparse.Namespace) -> int:
    """Migrate, collect static files, embed articles that lack vectors by the configured encoder and make
    sure the first admin exists."""
    _django()
    from django.core.management import call_command

    from firstring.accounts.services import admin_ensure
    from firstring.knowledge.services import entry_vectors_rebuild

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    # After an upgrade that added them, or a change of FIRSTRING_TOPIC_BACKEND: search by meaning
    # reads only the configured encoder's vectors.
    embedded = entry_vectors_rebuild()
    if embedded:
        print(f"Embedded {embedded} knowledge base articles for search by meaning.")
    email = os.environ.get("FIRSTRING_ADMIN_EMAIL", "admin@example.com")
    user, generated = admin_ensure(email=email, password=os.environ.get("FIRSTRING_ADMIN_PASSWORD") or None)
    if generated:
        print(f"Created the first admin: {user.email} with password {generated}  (shown once; keep it)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _django()
    from firstring.demo.loader import demo_load

    summary = demo_load(conversations=args.conversations, only_if_empty=args.if_empty, seed=args.seed)
    print(summary)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstring.settings")
    workers: list[subprocess.Popen[bytes]] = []
    if not args.no_worker:
        env = dict(os.environ)
        if os.environ.get("FIRSTRING_CHANNEL_LAYER", "memory") == "memory" and args.workers == 1:
            # The worker's live updates (offers, deliveries) reach the agents' websockets through us.
            host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
            env.setdefault("FIRSTRING_LIVE_FORWARD_URL", f"http://{host}:{args.port}/internal/live/")
        # One worker per queue, so that a reply to a customer never waits behind analysis.
        workers = [
            subprocess.Popen([sys.executable, "-m", "firstring", "worker", "--queue", queue], env=env)  # noqa: S603
            for queue in ("default", "outbox")
        ]
    # uvicorn re-raises SIGTERM after its graceful shutdown; as SystemExit it runs the finally below,
    # which stops the worker instead of leaving it orphaned.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        uvicorn.run(
            "firstring.asgi:application",
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            proxy_headers=True,
            ws_max_size=1 << 20,
        )
    finally:
        running = [worker for worker in workers if worker.poll() is None]
        for worker in running:
            worker.send_signal(signal.SIGTERM)
        for worker in running:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Everything `make run` needs: set up, load demo data into an empty database, serve with a worker."""
    cmd_setup(args)
    from firstring.demo.loader import demo_load

    print(demo_load(conversations=300, only_if_empty=True, seed=1))
    print(f"Firstring is serving on http://{args.host}:{args.port}")
    return cmd_serve(args)


def cmd_worker(args: argparse.Namespace) -> int:
    _django()
    from django.core.management import call_command

    call_command("firstring_worker", batch=args.batch, queues=args.queues)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _django()
    from firstring.accounts.models import User
    from firstring.accounts.services import api_token_create

    user = User.objects.filter(email=args.email.strip().lower(), is_active=True).first()
    if user is None:
        print(f"no active user with e-mail {args.email}", file=sys.stderr)
        return 1
    _, raw = api_token_create(user=user, name=args.name)
    print(raw)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _django()
    from firstring.importing import import_jsonl

    with open(args.file, encoding="utf-8") as handle:
        report = import_jsonl(handle, default_channel=args.channel)
    print(report.summary())
    return 0 if not report.errors else 1


def cmd_bench(args: argparse.Namespace) -> int:
    _django()
    from firstring.bench import run_benchmark

    return run_benchmark(args.name, args.rest)


def cmd_mail_poll(args: argparse.Namespace) -> int:
    _django()
    from firstring.channels.email.imap import mailbox_channels, mailbox_poll

    channels = [c for c in mailbox_channels() if not args.channel or c.slug in args.channel]
    if args.channel and len(channels) != len(set(args.channel)):
        found = {c.slug for c in channels}
        missing = ", ".join(sorted(set(args.channel) - found))
        print(f"no enabled e-mail channel with an imap_host: {missing}", file=sys.stderr)
        return 1
    failed = 0
    for channel in channels:
        try:
            print(mailbox_poll(channel=channel, batch=args.batch).summary())
        except Exception as error:  # one broken mailbox must not keep the others from being polled
            print(f"{channel.slug}: failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def cmd_mail_watch(args: argparse.Namespace) -> int:
    _django()
    from firstring.channels.email.imap import mailbox_channels, mailbox_watch

    channel = next((c for c in mailbox_channels() if c.slug == args.channel), None)
    if channel is None:
        print(f"no enabled e-mail channel {args.channel!r} with an imap_host", file=sys.stderr)
        return 1
    mailbox_watch(channel=channel, seconds=args.seconds, on_report=lambda report: print(report.summary()))
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
    _django()
    import threading

    from firstring.listening.runner import listen

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    ran = listen(slugs=args.source or (), stop=stop, seconds=args.seconds)
    if not ran:
        print("no enabled listening source to run", file=sys.stderr)
        return 1
    return 0


def cmd_sip(args: argparse.Namespace) -> int:
    _django()
    from firstring.voice.phone.sip.endpoint import run_endpoint
    from firstring.voice.phone.sip.message import SipParseError

    try:
        run_endpoint(
            host=args.host, port=args.port, media_host=args.media_host, allow=args.allow, seconds=args.seconds
        )
    except SipParseError as error:  # a setting that names no SIP URI (FIRSTRING_SIP_TRUNK)
        print(error, file=sys.stderr)
        return 2
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firstring.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["firstring manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="firstring", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def serve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        p.add_argument("--workers", type=int, default=1, help="Web server processes.")
        p.add_argument("--no-worker", action="store_true", help="Do not start the background worker.")

    p = sub.add_parser(
        "setup", help="Migrate, collect static files, embed articles for search, create the first admin."
    )
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser(
        "run", help="Set up, load demo data if empty, serve with a worker (what `make run` does)."
    )
    serve_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("serve", help="Serve the web app and API (and a background worker).")
    serve_options(p)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="Run background tasks.")
    p.add_argument("--batch", action="store_true", help="Exit once the queue is empty.")
    p.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="NAME",
        help="Serve only this queue: default (analysis, routing, periodic jobs) or outbox (replies). "
        "Repeat for several; all by default.",
    )
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("demo", help="Load demo data.")
    p.add_argument("--conversations", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--if-empty", action="store_true", help="Only when there are no conversations yet.")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("token", help="API tokens.")
    token_sub = p.add_subparsers(dest="token_command", required=True)
    p = token_sub.add_parser("create", help="Print a new API token for a user.")
    p.add_argument("--email", required=True)
    p.add_argument("--name", default="cli")
    p.set_defaults(func=cmd_token)
    p = sub.add_parser(
        "import", help="Import messages from a JSON-lines file (one /api/v1/inbound body a line)."
    )
    p.add_argument("file")
    p.add_argument("--channel", default="api", help="Channel slug for lines that name none.")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("mail", help="E-mail mailboxes.")
    mail_sub = p.add_subparsers(dest="mail_command", required=True)
    p = mail_sub.add_parser("poll", help="Fetch new mail from the IMAP mailboxes now (all, or --channel).")
    p.add_argument("--channel", action="append", help="A channel slug; repeat for several.")
    p.add_argument("--batch", type=int, default=100, help="Messages stored per transaction.")
    p.set_defaults(func=cmd_mail_poll)
    p = mail_sub.add_parser("watch", help="Poll one mailbox and wait for new mail in IMAP IDLE.")
    p.add_argument("--channel", required=True)
    p.add_argument("--seconds", type=float, default=float("inf"), help="Stop after this long.")
    p.set_defaults(func=cmd_mail_watch)
    p = sub.add_parser("listen", help="Run the social listening sources (Bluesky, feeds) until stopped.")
    p.add_argument("--source", action="append", help="A source slug; repeat for several (default: all).")
    p.add_argument("--seconds", type=float, default=None, help="Stop after this long.")
    p.set_defaults(func=cmd_listen)
    p = sub.add_parser(
        "sip", help="Run the self-hosted SIP endpoint (UDP) for the phone numbers until stopped."
    )
    p.add_argument("--host", default=os.environ.get("FIRSTRING_SIP_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("FIRSTRING_SIP_PORT", "5060")))
    p.add_argument(
        "--media-host", default=None, help="The address RTP is bound to and offered (default: --host)."
    )
    p.add_argument(
        "--allow",
        type=ipaddress.ip_network,
        action="append",
        default=[],
        help="A network SIP may come from (a trunk's, the PBX's), e.g. 203.0.113.0/24; repeat. Default: any.",
    )
    p.add_argument("--seconds", type=float, default=None, help="Stop after this long.")
    p.set_defaults(func=cmd_sip)
    p = sub.add_parser("bench", help="Run a benchmark; prints one JSON object as its last line.")
    p.add_argument("name")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("manage", help="Django's manage.py commands.")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
