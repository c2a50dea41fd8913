"""The embedded broker writes each message whole before a worker can take it (kombu's own
filesystem transport created the file, then wrote it: a worker in between took an empty file,
failed with JSONDecodeError and the message was lost — kombu issue #1551)."""

from __future__ import annotations

from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection

from revive.config import broker_settings
from revive.fsbroker import TEMP_SUFFIX


def _connection(folder: Path) -> Connection:
    conf = broker_settings(folder, "filesystem://")
    return Connection(
        conf["broker_url"],
        transport=conf["broker_transport"],
        transport_options=conf["broker_transport_options"],
    )


def test_the_embedded_broker_uses_the_whole_message_transport(tmp_path):
    conf = broker_settings(tmp_path, "filesystem://")
    assert conf["broker_transport"] == "revive.fsbroker:Transport"
    assert "broker_transport" not in broker_settings(tmp_path, "redis://127.0.0.1:6379/0")


def test_a_message_is_never_seen_half_written(tmp_path, monkeypatch):
    with _connection(tmp_path) as conn:
        channel = conn.default_channel
        queue_dir = Path(conn.transport_options["data_folder_out"])
        seen: list[list[str]] = []
        real_replace = __import__("os").replace

        def replace(src, dst):
            # at the moment of the rename a worker listing the folder finds no .msg file yet,
            # only the temporary one, which it does not take
            seen.append(sorted(p.name for p in queue_dir.iterdir()))
            with pytest.raises(Empty):
                channel._get("revive")
            return real_replace(src, dst)

        monkeypatch.setattr("revive.fsbroker.os.replace", replace)
        channel._put("revive", {"body": "一条消息"})
        [names] = seen
        assert len(names) == 1 and names[0].endswith(".revive.msg" + TEMP_SUFFIX)
        assert channel._get("revive") == {"body": "一条消息"}
        with pytest.raises(Empty):
            channel._get("revive")
        assert list(queue_dir.iterdir()) == []
