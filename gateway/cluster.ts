/**
 * `caracal serve gateway --workers N` (or `[gateway] workers = N`): N Gateway processes share the
 * port through node:cluster, for hosts with cores to spare. The primary only supervises: it forks
 * the workers (the same command line), restarts one that stops, answers `/_caracal/metrics` with
 * every worker's metrics summed, and stops them all gracefully on SIGTERM or SIGINT.
 *
 * Each worker is a whole Gateway (runGateway): its own snapshot, token cache, audit writer thread
 * and connection to the store; SQLite serialises their appends and each chain's head is read inside
 * the append's write transaction, so the chains stay whole whatever the number of writers.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { CaracalError } from '../core/errors.js';
import { untilSignal } from '../core/service/until-signal.js';

const STOP = 'caracal:stop';
const METRICS_REQUEST = 'caracal:metrics-request';
const METRICS_REPLY = 'caracal:metrics-reply';

/** More worker stops than this within CRASH_WINDOW_MS is a crash loop: the Gateway stops. */
const MAX_RESTARTS = 5;
const CRASH_WINDOW_MS = 60_000;
/** A worker drains for up to 10 s and then flushes its audit events; past this it is killed. */
const STOP_TIMEOUT_MS = 30_000;
/** How long a worker waits for the primary's summed metrics: longer than prom-client's own 5 s wait for each worker, so its error is the one reported. */
const METRICS_TIMEOUT_MS = 6_000;

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}

interface MetricsReply {
  readonly type: typeof METRICS_REPLY;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/**
 * Runs the primary until SIGTERM or SIGINT: forks `count` workers, calls `listening` with the port
 * once all of them listen, and then stops them gracefully. Rejects when a worker fails before it
 * listens (a port in use, a bad store) or workers keep stopping (a crash loop).
 */
export async function runGatewayPrimary(count: number, logger: Logger, listening: (port: number) => void): Promise<void> {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
    const reply = (fields: Omit<MetricsReply, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_REPLY, id: message.id, ...fields } satisfies MetricsReply);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: Error) => reply({ error: error.message }),
    );
  });

  let stopping = false;
  /** Whether every first worker listened: from then on a worker that stops counts as a restart. */
  let started = false;
  const listened = new Set<number>();
  const restarts: number[] = [];
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const allListening = new Promise<number>((resolve) => {
    cluster.on('listening', (worker, address) => {
      // A stop sent while this worker was still loading may have come before it listened for one.
      if (stopping && worker.isConnected()) worker.send(STOP);
      listened.add(worker.id);
      if (listened.size === count) resolve(address.port);
    });
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const how = signal === null ? `exit code ${String(code)}` : `signal ${signal}`;
    if (!started) {
      fail(new CaracalError('CRC_SERVICE_UNAVAILABLE', `a Gateway worker stopped before it listened (${how})`, { hint: 'its log above says why (a port in use, the store)' }));
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length > 0 && (restarts[0] as number) < now - CRASH_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS) {
      fail(new CaracalError('CRC_SERVICE_UNAVAILABLE', `Gateway workers stopped ${restarts.length} times within a minute (the last: ${how}); not starting more`, { hint: 'see the workers’ log above' }));
      return;
    }
    logger.error({ worker: worker.process.pid, code, signal }, `a Gateway worker stopped (${how}); starting another`);
    cluster.fork();
  });

  async function stopWorkers(): Promise<void> {
    stopping = true;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
    const exits = live.map((w) => new Promise<number | null>((resolve) => w.once('exit', (code: number | null) => resolve(code))));
    for (const w of live) {
      if (w.isConnected()) w.send(STOP);
      else w.process.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const codes = await Promise.all(exits);
    clearTimeout(timer);
    const unclean = codes.filter((code) => code !== 0);
    if (unclean.length > 0) {
      throw new CaracalError('CRC_INTERNAL', `${unclean.length} of ${live.length} Gateway workers did not stop cleanly (exit codes ${unclean.join(', ')})`, {
        hint: 'their last audit events may be missing: check `caracal audit verify` and the log above',
      });
    }
  }

  // Signals are handled from the start: a stop while workers are starting waits for them to start.
  const stopped = untilSignal(() => stopWorkers());
  for (let i = 0; i < count; i++) cluster.fork();
  try {
    const port = await Promise.race([allListening, failed, stopped.then(() => undefined)]);
    if (port === undefined) return;
    started = true;
    listening(port);
    await Promise.race([stopped, failed]);
  } catch (error) {
    if (!stopping) await stopWorkers().catch(() => undefined);
    throw error;
  }
}

/**
 * In a worker, called as it starts: resolves with why it should stop, when the primary asks or
 * this process gets SIGTERM (a stop that comes while it is starting waits until it listens). A
 * terminal's Ctrl-C sends SIGINT to every process of the group; the primary handles it, so a
 * worker ignores SIGINT rather than stop twice. Also answers the primary's requests for this
 * worker's metrics from the start (none until `clusterMetrics` gives the registry), so a summing
 * never waits for a worker that is still starting.
 */
export function workerStopRequest(): Promise<string> {
  AggregatorRegistry.setRegistries([]);
  // Constructing one installs prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  return new Promise((resolve) => {
    process.on('message', (message: unknown) => {
      if (message === STOP) resolve('primary');
    });
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('SIGINT', () => undefined);
  });
}

/**
 * In a worker: the metrics of every worker, summed by the primary (prom-client's cluster
 * aggregation of `registry`). Rejects when the primary does not answer.
 */
export function clusterMetrics(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (error: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsReply>(message, METRICS_REPLY)) return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== undefined) request?.resolve(message.text);
    else request?.reject(new Error(`the primary could not sum the workers' metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the primary did not answer within ${METRICS_TIMEOUT_MS} ms`));
      }, METRICS_TIMEOUT_MS);
      waiting.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}
