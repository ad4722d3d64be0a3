// graphile-worker completing N no-op jobs: `node drain.js setup N` enqueues them,
// `node drain.js run N` starts a worker (concurrency 20, local queue of 80, job completions
// batched with no delay) and prints the seconds until the queue is empty.
// Connection: DATABASE_URL.
const { run, makeWorkerUtils, Logger } = require("graphile-worker");

// Quiet: a log line per job would measure the terminal, not the queue.
const logger = new Logger(() => () => {});
const { Pool } = require("pg");

const connectionString = process.env.DATABASE_URL;
const [mode, countText] = process.argv.slice(2);
const count = Number(countText);

async function setup() {
  const utils = await makeWorkerUtils({ connectionString, logger });
  await utils.migrate();
  for (let done = 0; done < count; done += 1000) {
    const n = Math.min(1000, count - done);
    await utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} })));
  }
  await utils.release();
}

async function drain() {
  const pool = new Pool({ connectionString, max: 2 });
  const remaining = async () =>
    Number((await pool.query("SELECT count(*) AS n FROM graphile_worker._private_jobs")).rows[0].n);
  const started = process.hrtime.bigint();
  const runner = await run({
    connectionString,
    concurrency: 20,
    noHandleSignals: true,
    logger,
    pollInterval: 1000,
    taskList: { noop: async () => {} },
    preset: {
      worker: { localQueue: { size: 80 }, completeJobBatchDelay: 0 },
    },
  });
  while ((await remaining()) > 0) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await runner.stop();
  await pool.end();
  console.log(`completed=${count} seconds=${seconds.toFixed(3)}`);
}

(mode === "setup" ? setup() : drain()).catch((e) => {
  console.error(e);
  process.exit(1);
});
