"""An e-mail backend for benches with several processes: each message in a file of its own.

Django's file-based backend names its files by the second and the backend object's ``id()``, so
two messages sent in the same second (by one process, or by forked processes) can share a file;
counting its files undercounts. Here each message is written to a temporary name and renamed
to ``<uuid>.eml`` when complete: a reader never sees half a message.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


class OneFilePerMessageBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = uuid.uuid4().hex
            partial = folder / f".{name}.part"
            partial.write_bytes(message.message().as_bytes())
            os.replace(partial, folder / f"{name}.eml")
        return len(email_messages)
