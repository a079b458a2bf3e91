"""A real Synapse on loopback for the Matrix tests and the lag benchmark: started from a config
written here (registration open, no key servers, SQLite), stopped at the end; it contacts
nothing else."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

SERVER_NAME = "askfirst.test"
# Everyone may send as fast as the tests and the benchmark do.
UNLIMITED = "{per_second: 100000, burst_count: 100000}"
CONFIG = """\
server_name: "{server_name}"
pid_file: {folder}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {folder}/homeserver.db
log_config: {folder}/log.yaml
media_store_path: {folder}/media
signing_key_path: {folder}/signing.key
report_stats: false
bcrypt_rounds: 4
enable_registration: true
enable_registration_without_verification: true
trusted_key_servers: []
suppress_key_server_warning: true
macaroon_secret_key: "askfirst-tests-macaroon"
form_secret: "askfirst-tests-form"
registration_shared_secret: "askfirst-tests-registration"
presence:
  enabled: false
url_preview_enabled: false
rc_message: {unlimited}
rc_registration: {unlimited}
rc_joins:
  local: {unlimited}
  remote: {unlimited}
rc_invites:
  per_room: {unlimited}
  per_user: {unlimited}
  per_issuer: {unlimited}
rc_room_creation: {unlimited}
rc_login:
  address: {unlimited}
  account: {unlimited}
  failed_attempts: {unlimited}
"""
LOG_CONFIG = """\
version: 1
formatters:
  plain: {{format: '%(asctime)s %(levelname)s %(name)s %(message)s'}}
handlers:
  file: {{class: logging.FileHandler, filename: {folder}/homeserver.log, formatter: plain}}
root: {{level: WARNING, handlers: [file]}}
disable_existing_loggers: false
"""


@dataclass
class Homeserver:
    """A running Synapse: its URL and server name; `stop()` ends it."""

    url: str
    server_name: str
    folder: Path
    process: subprocess.Popen[bytes]

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_homeserver(folder: Path, wait_seconds: float = 60) -> Homeserver:
    """Write a config into `folder`, start Synapse on a free loopback port, wait for it."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "homeserver.yaml"
    config.write_text(
        CONFIG.format(server_name=SERVER_NAME, folder=folder, port=port, unlimited=UNLIMITED)
    )
    (folder / "log.yaml").write_text(LOG_CONFIG.format(folder=folder))
    synapse = [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)]
    subprocess.run([*synapse, "--generate-keys"], check=True, capture_output=True, cwd=folder)
    with (folder / "stdout.log").open("wb") as output:  # the child keeps its own copy
        process = subprocess.Popen(synapse, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Synapse exited with {process.returncode}; see {folder}/stdout.log")
        try:
            with urllib.request.urlopen(f"{url}/_matrix/client/versions", timeout=1):
                return Homeserver(url, SERVER_NAME, folder, process)
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"Synapse did not answer within {wait_seconds} s; see {folder}/stdout.log")
