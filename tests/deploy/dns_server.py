"""A minimal authoritative DNS server on loopback (UDP), so a test can give one name several A records.

gRPC's DNS resolver can ask it directly: `dns://127.0.0.1:PORT/embedding.test:50052`, the same resolution a
Kubernetes headless service or compose `--scale` gives, without touching /etc/hosts or /etc/resolv.conf.
"""

import socket
import struct
import threading

_TYPE_A = 1


class LoopbackDns:
    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = {name.lower().rstrip("."): addresses for name, addresses in records.items()}
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.queries: list[tuple[str, int]] = []
        self._thread = threading.Thread(target=self._serve, daemon=True, name="loopback-dns")

    def __enter__(self) -> "LoopbackDns":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.socket.close()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self.socket.recvfrom(512)
            except OSError:
                return
            self.socket.sendto(self._answer(query), client)

    def _answer(self, query: bytes) -> bytes:
        (ident,) = struct.unpack("!H", query[:2])
        labels, offset = [], 12
        while query[offset]:
            length = query[offset]
            labels.append(query[offset + 1 : offset + 1 + length].decode())
            offset += 1 + length
        qtype, _ = struct.unpack("!HH", query[offset + 1 : offset + 5])
        question = query[12 : offset + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        known = name in self.records
        answers = self.records[name] if known and qtype == _TYPE_A else []
        # Flags: response, authoritative, recursion available; NXDOMAIN for unknown names.
        flags = 0x8480 | (0 if known else 3)
        header = struct.pack("!HHHHHH", ident, flags, 1, len(answers), 0, 0)
        records = b"".join(
            struct.pack("!HHHIH", 0xC00C, _TYPE_A, 1, 5, 4) + socket.inet_aton(address) for address in answers
        )
        return header + question + records
