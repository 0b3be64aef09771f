import type { Database as Db, Statement } from 'better-sqlite3';
import { auditEventTypes } from '../../audit/event.js';
import type { AuditEvent, AuditEventInput, AuditPolicyRef, AuditQuery } from '../../audit/event.js';
import { canonicalJson, chainKey, GENESIS_HASH } from '../../audit/chain.js';
import { newId } from '../../domain/ids.js';
import type { Page } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { auditEventHash } from './audit-event-hash.js';
import { decodeCursor, pageLimit, toPage } from './paging.js';
import { AUDIT_COLUMNS, auditValues, toAuditEvent } from './rows.js';
import type { AuditRow } from './rows.js';
import { isoTime } from './time.js';

const EVENT_TYPES: ReadonlySet<string> = new Set(auditEventTypes);
const DECISIONS: ReadonlySet<string> = new Set(['allow', 'deny', 'error']);
/** Default and largest number of events `readAuditChain` returns per call. */
const CHAIN_PAGE = 1000;
const CHAIN_PAGE_MAX = 10_000;

/**
 * The audit ledger in SQLite: append-only, one hash chain per zone. Appends run in one
 * `BEGIN IMMEDIATE` transaction, which takes the database write lock up front, so processes
 * sharing the file append one after another; each transaction reads the chain heads afresh
 * (nothing is cached across transactions: another process may have appended in between).
 */
export class SqliteAuditLedger {
  readonly #db: Db;
  readonly #insert: Statement;
  readonly #head: Statement;
  readonly #chain: Statement;
  readonly #chains: Statement;
  readonly #queries = new Map<string, Statement>();
  readonly #append: (inputs: readonly AuditEventInput[]) => AuditEvent[];

  constructor(db: Db) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`,
    );
    this.#head = db.prepare('SELECT seq, hash FROM audit_events WHERE chain = ? ORDER BY seq DESC LIMIT 1').raw();
    this.#chain = db.prepare('SELECT * FROM audit_events WHERE chain = ? AND seq >= ? ORDER BY seq LIMIT ?');
    // A skip-scan over the (chain, seq) index: one probe per chain instead of a scan of every event.
    this.#chains = db
      .prepare(
        `WITH RECURSIVE c(chain) AS (
           SELECT MIN(chain) FROM audit_events
           UNION ALL
           SELECT (SELECT MIN(chain) FROM audit_events WHERE chain > c.chain) FROM c WHERE c.chain IS NOT NULL
         ) SELECT chain FROM c WHERE chain IS NOT NULL`,
      )
      .pluck();
    const append = db.transaction((inputs: readonly AuditEventInput[]) => this.#appendAll(inputs));
    this.#append = (inputs) => append.immediate(inputs);
  }

  /** Appends events to their chains in one write transaction; returns them as stored. */
  append(inputs: readonly AuditEventInput[]): AuditEvent[] {
    if (inputs.length === 0) return [];
    return this.#append(inputs);
  }

  #appendAll(inputs: readonly AuditEventInput[]): AuditEvent[] {
    const heads = new Map<string, { seq: number; hash: string }>();
    const now = new Date().toISOString();
    const stored: AuditEvent[] = new Array<AuditEvent>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as AuditEventInput;
      checkInput(input);
      const chain = chainKey(input.zone);
      let head = heads.get(chain);
      if (head === undefined) {
        const row = this.#head.get(chain) as [number, string] | undefined;
        head = row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: row[0], hash: row[1] };
      }
      // Each open-ended part is serialised once, canonically: the same text is hashed and stored.
      const scopes = input.scopes === undefined ? [] : [...input.scopes];
      const policy = input.policy == null ? null : normalisePolicy(input.policy);
      // The stored event must hash exactly as it reads back: keep only what JSON keeps.
      const detail = input.detail === undefined || isEmpty(input.detail) ? {} : jsonCopy(input.detail);
      const parts = {
        scopes: JSON.stringify(scopes),
        policy: policyJson(policy),
        detail: canonicalJson(detail),
      };
      const unhashed: Omit<AuditEvent, 'hash'> = {
        id: newId('event'),
        seq: head.seq + 1,
        at: input.at === undefined ? now : isoTime(input.at, 'at'),
        zone: input.zone,
        request_id: input.request_id,
        type: input.type,
        app: input.app ?? null,
        resource: input.resource ?? null,
        scopes,
        decision: input.decision,
        reason: input.reason,
        category: input.category ?? null,
        policy,
        http:
          input.http == null
            ? null
            : {
                method: input.http.method,
                path: input.http.path,
                status: input.http.status ?? null,
                upstream_status: input.http.upstream_status ?? null,
                latency_ms: input.http.latency_ms ?? null,
              },
        token: input.token == null ? null : { jti: input.token.jti, exp: input.token.exp },
        detail,
        prev_hash: head.hash,
      };
      const event: AuditEvent = { ...unhashed, hash: auditEventHash(unhashed, parts) };
      this.#insert.run(auditValues(event, chain, parts));
      heads.set(chain, { seq: event.seq, hash: event.hash });
      stored[i] = event;
    }
    return stored;
  }

  /** Events matching every given filter, newest first, one page at a time. */
  query(query: AuditQuery): Page<AuditEvent> {
    const where: string[] = [];
    const params: unknown[] = [];
    const filter = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    // A zone filter selects the zone's chain; `global` thus selects the zone-less events.
    if (query.zone !== undefined) filter('chain = ?', query.zone);
    if (query.type !== undefined) filter('type = ?', query.type);
    if (query.decision !== undefined) filter('decision = ?', query.decision);
    if (query.app !== undefined) filter('app = ?', query.app);
    if (query.resource !== undefined) filter('resource = ?', query.resource);
    if (query.requestId !== undefined) filter('request_id = ?', query.requestId);
    if (query.jti !== undefined) filter('token_jti = ?', query.jti);
    // [since, until): inclusive start, exclusive end, so consecutive windows never overlap.
    if (query.since !== undefined) filter('at >= ?', isoTime(query.since, 'since'));
    if (query.until !== undefined) filter('at < ?', isoTime(query.until, 'until'));
    if (query.cursor !== undefined) filter('id < ?', decodeCursor(query.cursor));
    const limit = pageLimit(query.limit);
    const sql =
      `SELECT * FROM audit_events${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}` +
      ' ORDER BY id DESC LIMIT ?';
    let statement = this.#queries.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#queries.set(sql, statement);
    }
    const rows = statement.all(...params, limit + 1) as AuditRow[];
    return toPage(rows, limit, (row) => row.id, toAuditEvent);
  }

  /** A chain's events from `fromSeq` on, in seq order (at most 10,000 per call; default 1,000). */
  readChain(chain: string, fromSeq = 1, limit = CHAIN_PAGE): AuditEvent[] {
    if (!Number.isInteger(fromSeq) || !Number.isInteger(limit) || limit < 1) {
      throw new CaracalError('CRC_VALIDATION', 'fromSeq and limit must be whole numbers (limit at least 1).');
    }
    const rows = this.#chain.all(chain, fromSeq, Math.min(limit, CHAIN_PAGE_MAX)) as AuditRow[];
    return rows.map(toAuditEvent);
  }

  /** The chain keys present, sorted. */
  chains(): string[] {
    return this.#chains.all() as string[];
  }
}

function checkInput(input: AuditEventInput): void {
  if (!EVENT_TYPES.has(input.type) || !DECISIONS.has(input.decision) || typeof input.request_id !== 'string') {
    throw new CaracalError(
      'CRC_VALIDATION',
      `An audit event needs a known type (${auditEventTypes.join(', ')}), a decision (allow, deny, error) and a request_id; ` +
        `got type ${JSON.stringify(input.type)}, decision ${JSON.stringify(input.decision)}.`,
    );
  }
  if (input.scopes !== undefined && !input.scopes.every((scope) => typeof scope === 'string')) {
    throw new CaracalError('CRC_VALIDATION', 'An audit event\'s scopes must be strings.');
  }
}

/** The policy reference with exactly its four fields (so it hashes as it reads back). */
function normalisePolicy(policy: AuditPolicyRef): AuditPolicyRef {
  return {
    set_id: policy.set_id ?? null,
    set_version: policy.set_version ?? null,
    versions: [...policy.versions],
    rules: [...policy.rules],
  };
}

/** canonicalJson of a normalised policy reference, written directly when its lists hold strings. */
function policyJson(policy: AuditPolicyRef | null): string {
  if (policy === null || !allStrings(policy.versions) || !allStrings(policy.rules)) return canonicalJson(policy);
  const s = JSON.stringify;
  return `{"rules":${s(policy.rules)},"set_id":${s(policy.set_id)},"set_version":${s(policy.set_version)},"versions":${s(policy.versions)}}`;
}

function allStrings(values: readonly unknown[]): boolean {
  for (const value of values) if (typeof value !== 'string') return false;
  return true;
}

function isEmpty(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
