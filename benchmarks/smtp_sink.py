"""A local SMTP sink in a process of its own, as a real mail server would be: accepts every
message, keeps nothing (or, given a file, the Message-ID of each, one a line), and prints how
many it accepted when it is told to stop (SIGTERM).

    python benchmarks/smtp_sink.py PORT [MESSAGE_IDS_FILE]
"""

from __future__ import annotations

import re
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self, ids_file=None):
        self.accepted = 0
        self.ids_file = ids_file

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        if self.ids_file is not None:
            match = MESSAGE_ID.search(envelope.content)
            self.ids_file.write((match.group(1).decode() if match else "-") + "\n")
        return "250 2.0.0 OK"


MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)


def main() -> None:
    ids_file = open(sys.argv[2], "a", buffering=1) if len(sys.argv) > 2 else None  # noqa: SIM115
    counter = Counter(ids_file)
    controller = Controller(counter, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    if ids_file is not None:
        ids_file.close()
    print(counter.accepted, flush=True)


if __name__ == "__main__":
    main()
