"""A throwaway PostgreSQL server for the test session: a real cluster on a Unix socket.

``PostgresCluster.start()`` runs ``initdb`` and ``pg_ctl`` from the distribution's binaries
(``/usr/lib/postgresql/<n>/bin``, ``pg_config --bindir`` or ``$PATH``) in a temporary folder,
with a socket there and no TCP port. ``initdb`` refuses root, so as root the cluster belongs
to the ``postgres`` user. Each test gets its own database, owned by an ordinary role
(``newsbot``: no superuser, no CREATEDB), as the README asks operators to set it up.

Missing binaries are a failure, never a skip: CI installs them (``apt-get install postgresql``).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROLE = "newsbot"
ADVICE = (
    "PostgreSQL's server binaries (initdb, pg_ctl) are missing: install them "
    "(`apt-get install -y postgresql`) or set NEWSBOT_PG_BINDIR to their folder"
)


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``; RuntimeError naming the fix if none."""
    candidates: list[Path] = []
    if os.environ.get("NEWSBOT_PG_BINDIR"):
        candidates.append(Path(os.environ["NEWSBOT_PG_BINDIR"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += versions
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise RuntimeError(ADVICE)


class PostgresCluster:
    """One PostgreSQL server in a temporary folder, reached through its Unix socket."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.root / "data"
        self._user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._names = itertools.count(1)

    @classmethod
    def start(cls) -> PostgresCluster:
        cluster = cls(find_bindir())
        try:
            cluster._init_and_start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            os.chown(self.root, pwd.getpwnam("postgres").pw_uid, -1)
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def _init_and_start(self) -> None:
        self.root.chmod(0o700)
        self._run(
            "initdb", "-D", str(self.data), "-U", self._user, "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=64MB"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")  # fmt: skip
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE")

    def url(self, dbname: str, user: str = ROLE) -> str:
        return f"postgresql://{user}@/{dbname}?host={self.root}"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url("postgres", self._user), autocommit=True)

    def create_database(self, template: str = "template0") -> str:
        """A fresh database owned by the ordinary role (empty, or a copy of ``template``);
        returns its URL."""
        name = f"newsbot_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {ROLE} TEMPLATE {template}")
        return self.url(name)

    def make_template(self, url: str) -> str:
        """Turn a prepared database into a template for ``create_database`` (copying one is
        faster than migrating each test's database); returns its name."""
        name = urlsplit(url).path.lstrip("/")
        with self.admin() as conn:
            conn.execute(f"ALTER DATABASE {name} IS_TEMPLATE true")
        return name

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with self.admin() as conn:
            conn.execute(f"ALTER DATABASE {name} IS_TEMPLATE false")
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
