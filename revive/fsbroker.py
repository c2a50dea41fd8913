"""The embedded broker (no server): kombu's filesystem transport, each message written whole
before a worker can see it.

kombu's ``Channel._put`` creates the message file, then locks and writes it; its ``_get`` moves
any file named ``….<queue>.msg`` away and reads it without taking the lock (flock is only
advisory). A worker listing the folder between the create and the write takes an empty or
half-written file, fails on it (``JSONDecodeError``: the worker process exits) and the message
is gone with the file (kombu issue #1551, open). A tester's import commit waited ten minutes
for the recovery sweep after exactly that. Here a message is written under a name no worker
reads (``….msg.tmp``) and renamed into place: a rename within one folder is atomic, so a worker
sees the whole message or none of it.

Used by ``revive.config.broker_settings`` (``broker_transport``) whenever the broker is the
folder; kombu's own class otherwise serves as it is.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

TEMP_SUFFIX = ".tmp"  # _get takes only names whose part after the first dot is "<queue>.msg"


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        """Put ``payload`` onto ``queue``: written under a temporary name, then renamed."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temp = final + TEMP_SUFFIX
        try:
            with open(temp, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(temp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(temp)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
