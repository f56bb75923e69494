// The thread that owns one PGlite instance for `embeddedDatabase` (pglite-database.ts). Plain
// CommonJS so it starts the same under tsx, jest and plain node. Messages:
//   { id, op: 'query' | 'exec', sql, params?, tx?, rowMode? } and { id, op: 'begin' | 'commit' | 'rollback', tx }
// Replies: { id, rows? } or { id, error: { message, code } }. { op: 'connect', port, urgent? }
// serves the same messages on a port of another thread, with transactions of its own.
// Run as a process of its own (`node pglite-worker.js '{"dataDir":..., "settings":...}'`), it
// creates the data folder (initdb) and exits.
const { isMainThread, parentPort, workerData } = require('node:worker_threads');

const INT8_OID = 20;
const BYTEA_OID = 17;

// PGlite's own bytea conversions build and parse one string per byte; the aggregator sends its
// sketches as one bytea of hundreds of kilobytes a batch, which made them the costliest step of
// an embedded batch. Node converts hex natively. A parsed value gets a buffer of its own (not a
// slice of Node's shared pool), since posting a view to the other thread copies its whole buffer.
const byteaToHex = (bytes) => `\\x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
function byteaFromHex(text) {
  const hex = text.slice(2);
  const bytes = Buffer.allocUnsafeSlow(hex.length / 2);
  bytes.write(hex, 'hex');
  return bytes;
}
const ROLLBACK = Symbol('rollback');

async function open(dataDir, settings) {
  const { PGlite } = await import('@electric-sql/pglite');
  return PGlite.create(dataDir, {
    parsers: { [INT8_OID]: (value) => Number(value), [BYTEA_OID]: byteaFromHex },
    serializers: { [BYTEA_OID]: byteaToHex },
    startParams: [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
  });
}

async function create({ dataDir, settings }) {
  const db = await open(dataDir, settings);
  await db.close();
}

async function main() {
  if (workerData.niceness > 0) {
    // setpriority(2) with pid 0 applies to the calling thread on Linux; elsewhere it may apply to
    // the process or fail, and the database works the same, only without the precedence.
    try {
      require('node:os').setPriority(0, workerData.niceness);
    } catch {
      // no precedence then
    }
  }
  const db = await open(workerData.dataDir, workerData.settings);
  const take = turns();
  if (workerData.checkpointEveryMs > 0) {
    // Single-user PostgreSQL has no checkpointer, and checkpoints for WAL volume are asked for
    // only under a postmaster: without this the WAL grows with every write until the database
    // closes (560 MB of pg_wal while the demo's 1,000,000 events were folded). Queued behind any
    // open transaction, as every query is.
    setInterval(() => void take(false).then((release) => db.exec('CHECKPOINT').catch(() => undefined).finally(release)), workerData.checkpointEveryMs).unref();
  }
  serve(db, parentPort, take, false);
  parentPort.postMessage({ ready: true });
}

/**
 * Who holds PGlite next. PGlite runs one statement or transaction at a time, in the order they
 * were asked for, so a safety rule's read waited behind every batch, roll-up, purge, import and
 * vacuum queued before it (the detect consumer fell past its 5-minute record age at the end of a
 * 1,000,000-event load). A unit of work (a statement outside a transaction, or a transaction from
 * BEGIN to its end) waits here for its turn instead, and an urgent connection's unit goes before
 * every waiting unit of the others: it waits at most for the unit that holds the database.
 * Resolves to the function that gives the turn back.
 */
function turns() {
  const waiting = { urgent: [], normal: [] };
  let held = false;
  const next = () => {
    const grant = waiting.urgent.shift() ?? waiting.normal.shift();
    if (grant) grant();
    else held = false;
  };
  return function take(urgent) {
    return new Promise((resolve) => {
      let released = false;
      const grant = () => {
        held = true;
        resolve(() => {
          if (released) return;
          released = true;
          next();
        });
      };
      if (held) (urgent ? waiting.urgent : waiting.normal).push(grant);
      else grant();
    });
  };
}

/** Answers one connection's messages; its transactions are its own (ids are per connection). */
function serve(db, endpoint, take, urgent) {
  // Open transactions: PGlite runs its other queries after the one open transaction ends.
  const transactions = new Map();
  let closed = false;

  const inTurn = async (run) => {
    const release = await take(urgent);
    try {
      return await run(db);
    } finally {
      release();
    }
  };
  const reply = (id, body) => endpoint.postMessage({ id, ...body });
  const fail = (id, error) => reply(id, { error: { message: error && error.message ? error.message : String(error), code: error && error.code } });

  const handlers = {
    async query({ sql, params, tx, rowMode }) {
      const run = (target) => target.query(sql, params, rowMode ? { rowMode } : undefined);
      return { rows: (await (tx === undefined ? inTurn(run) : run(transactions.get(tx).handle))).rows };
    },
    async exec({ sql, tx }) {
      const run = (target) => target.exec(sql);
      await (tx === undefined ? inTurn(run) : run(transactions.get(tx).handle));
      return {};
    },
    async begin({ tx }) {
      const release = await take(urgent);
      const opening = new Promise((opened, failed) => {
        const entry = { handle: undefined, finish: undefined, done: undefined };
        const ended = new Promise((resolve) => (entry.finish = resolve));
        entry.done = db.transaction(async (handle) => {
          entry.handle = handle;
          transactions.set(tx, entry);
          // Opened after its connection closed (it waited behind another transaction): nobody will end it.
          if (closed) end(tx, ROLLBACK).catch(() => undefined);
          opened({});
          if ((await ended) === ROLLBACK) throw ROLLBACK;
        });
        entry.done.catch((error) => {
          if (entry.handle === undefined) failed(error);
        });
        entry.done.then(release, release);
      });
      return opening;
    },
    async commit({ tx }) {
      return end(tx, 'commit');
    },
    async rollback({ tx }) {
      return end(tx, ROLLBACK);
    },
    async close() {
      await db.close();
      return {};
    },
  };

  async function end(tx, outcome) {
    const entry = transactions.get(tx);
    transactions.delete(tx);
    entry.finish(outcome);
    try {
      await entry.done;
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
    return {};
  }

  // A connection whose thread died (the aggregator thread crashed mid-batch) can never commit or
  // roll back its open transaction, and PGlite runs nothing else until that transaction ends:
  // without this every other connection, the restarted thread's included, would wait for ever.
  endpoint.on('close', () => {
    closed = true;
    for (const tx of [...transactions.keys()]) end(tx, ROLLBACK).catch(() => undefined);
  });

  endpoint.on('message', (message) => {
    if (message.op === 'connect') return serve(db, message.port, take, message.urgent === true);
    handlers[message.op](message).then((body) => reply(message.id, body), (error) => fail(message.id, error));
  });
}

if (isMainThread) {
  create(JSON.parse(process.argv[2])).then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${error && error.message ? error.message : error}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((error) => parentPort.postMessage({ ready: false, error: { message: String(error && error.message ? error.message : error) } }));
}
