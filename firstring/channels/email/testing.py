"""A throw-away Dovecot IMAP server on loopback, for the tests and `firstring bench email`.

Runs Debian's `dovecot` (package dovecot-imapd) as an unprivileged process (the current user, or
`nobody` when started as root) with its own configuration, Maildir and passwd-file under a temporary
directory, on a free loopback port, plain-text logins allowed (loopback only, no TLS).
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from firstring.lib.net import free_port

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


class DovecotUnavailable(RuntimeError):
    """The dovecot binary is not installed (apt-get install dovecot-imapd)."""


def dovecot_binary() -> str | None:
    return os.environ.get("FIRSTRING_DOVECOT") or shutil.which("dovecot", path=_SEARCH_PATH)


@dataclass(frozen=True)
class ImapServer:
    host: str
    port: int
    username: str
    password: str
    directory: Path

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _config(directory: Path, port: int, user: str, group: str) -> str:
    return f"""
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:{directory}/mail/%u
mail_fsync = never
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={directory}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    user = {user}
  }}
  unix_listener stats-writer {{
    user = {user}
  }}
}}
"""


@contextmanager
def dovecot_server(*, username: str = "support", password: str = "") -> Iterator[ImapServer]:
    """Start Dovecot for one mailbox user (a random password unless given); stop it and remove its files."""
    password = password or secrets.token_urlsafe(12)
    binary = dovecot_binary()
    if binary is None:
        raise DovecotUnavailable("dovecot is not installed (Debian package dovecot-imapd)")
    as_root = os.getuid() == 0
    account = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.getuid())
    user, group = account.pw_name, grp.getgrgid(account.pw_gid).gr_name
    directory = Path(tempfile.mkdtemp(prefix="firstring-dovecot-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        (directory / "dovecot.conf").write_text(_config(directory, port, user, group))
        (directory / "passwd").write_text(f"{username}:{{PLAIN}}{password}::::::\n")
        for sub in ("run", "state", "mail", "home"):
            (directory / sub).mkdir()
        if as_root:
            for path in [directory, *directory.iterdir()]:
                os.chown(path, account.pw_uid, account.pw_gid)
        process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            [binary, "-F", "-c", str(directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=account.pw_uid if as_root else None,
            group=account.pw_gid if as_root else None,
            extra_groups=[] if as_root else None,
        )
        server = ImapServer("127.0.0.1", port, username, password, directory)
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"dovecot exited with {process.returncode}: {error}{server.log()}")
            try:
                socket.create_connection((server.host, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot did not listen on port {port}: {server.log()}") from None
                time.sleep(0.05)
        yield server
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()
        shutil.rmtree(directory, ignore_errors=True)
