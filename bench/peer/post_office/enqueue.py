#!/usr/bin/env python3
"""Queues N personalised ~4 KB HTML mails (the same shape bellhop's benchmark sends)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()
from post_office import mail  # noqa: E402

n = int(sys.argv[1])
filler = "<p>Wir freuen uns auf Ihren Besuch. Bitte kommen Sie fünf Minuten früher.</p>" * 48
batch = []
for i in range(n):
    batch.append(
        dict(
            sender="Bench Salon <salon@bench.example>",
            recipients=[f"g{i}@example.com"],
            subject=f"Ihr Termin, Gast {i}",
            message=f"Guten Tag Gast {i}, Ihr Termin ist bestätigt.",
            html_message=f"<h1>Guten Tag Gast {i}</h1>{filler}",
            priority="medium",
        )
    )
    if len(batch) == 1000:
        mail.send_many(batch)
        batch = []
if batch:
    mail.send_many(batch)
print(f"queued {n}")
