#!/usr/bin/env bash
# Makes sure a MariaDB/MySQL server answers on 127.0.0.1:3306 for the store tests: starts the local one if
# it is installed but stopped.
set -uo pipefail
port_open() { .venv/bin/python -c 'import socket; socket.create_connection(("127.0.0.1", 3306), 1)' 2>/dev/null; }
port_open && exit 0
if [ -x /usr/sbin/mariadbd ] && command -v start-stop-daemon >/dev/null; then
  echo "starting the local MariaDB server" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do port_open && exit 0; sleep 0.5; done
fi
echo "no MariaDB on 127.0.0.1:3306: the MariaDB store tests will fail under CI=true and skip otherwise" >&2
