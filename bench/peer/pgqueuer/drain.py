"""PgQueuer completing N no-op jobs: `drain.py setup N` installs its schema and enqueues them;
`drain.py run` starts one queue manager in drain mode (batch 100) and exits when the queue is
empty. bench/drain starts two at once and times them. Connection: DATABASE_URL."""

import asyncio
import os
import sys

import asyncpg
from pgqueuer import QueueManager
from pgqueuer.queries import Queries
from pgqueuer.types import QueueExecutionMode

DSN = os.environ["DATABASE_URL"]


async def setup(count: int) -> None:
    conn = await asyncpg.connect(DSN)
    queries = Queries.from_asyncpg_connection(conn)
    await queries.install()
    for done in range(0, count, 1000):
        n = min(1000, count - done)
        await queries.enqueue(["noop"] * n, [None] * n, [0] * n)
    await conn.close()


async def drain() -> None:
    conn = await asyncpg.connect(DSN)
    qm = QueueManager(Queries.from_asyncpg_connection(conn))

    @qm.entrypoint("noop")
    async def noop(job) -> None:
        return None

    await qm.run(batch_size=100, mode=QueueExecutionMode.drain)
    await conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        asyncio.run(setup(int(sys.argv[2])))
    else:
        asyncio.run(drain())
