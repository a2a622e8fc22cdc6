"""``POST /admin/backup`` (admin): a backup made by the server process itself, which holds the
store, under the KnowledgeBase's write lock, so it falls between two writes.

The directory is never chosen by the client: it is ``<ALLIANCELD_BACKUP_DIR>/<UTC time>-<random>``
(``Settings.backups_dir``). An on-disk store is copied by a RocksDB checkpoint; a remote store is
dumped as N-Quads as ``allianceld backup`` does (consistent with this server's writes, which wait
for it, not with other clients'); an in-memory store gets 409.
"""

from __future__ import annotations

import datetime
import secrets

from flask import Blueprint, Response, jsonify

from allianceld.operations import backup
from allianceld.web.auth import require
from allianceld.web.services import services

bp = Blueprint("admin", __name__)


@bp.post("/admin/backup")
def make_backup() -> tuple[Response, int]:
    """201 with the manifest and the directory of a new backup; 401/403 without an admin's token,
    409 when the store is in memory."""
    require("admin")
    svc = services()
    kb = svc.kb
    root = svc.settings.backups_dir
    if kb.location == "memory":
        raise backup.BackupError("the store is in memory: there is nothing on disk to back up")
    if root is None:
        raise backup.BackupError("no backup directory: set ALLIANCELD_BACKUP_DIR")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = root / f"{stamp}-{secrets.token_hex(4)}"
    with kb.write_lock:  # no write of this server is under way, none starts before the backup is done
        manifest = backup.backup(kb, target)
    return jsonify({"directory": str(target.resolve()), "manifest": manifest.to_json()}), 201
