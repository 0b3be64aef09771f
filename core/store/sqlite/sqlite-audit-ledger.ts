import type { Database as Db, Statement } from 'better-sqlite3';
import { auditEventTypes } from '../../audit/event.js';
import type { AuditEvent, AuditEventInput, AuditPolicyRef, AuditQuery } from '../../audit/event.js';
import { canonicalJson, chainKey, GENESIS_HASH, GLOBAL_CHAIN } from '../../audit/chain.js';
import { newId } from '../../domain/ids.js';
import type { Page } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import { allStrings, auditEventHash, storedEventJson } from './audit-event-hash.js';
import { badCursor, decodeCursor, pageLimit, toPage } from './paging.js';
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
  readonly #position: Statement;
  readonly #queries = new Map<string, Statement>();
  readonly #append: (inputs: readonly AuditEventInput[]) => AuditEvent[];
  readonly #readAfter: (query: AuditQuery, position: number, limit: number) => { events: AuditEvent[]; position: number };

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
    this.#position = db.prepare('SELECT COALESCE(MAX(n), 0) FROM audit_events').pluck();
    const append = db.transaction((inputs: readonly AuditEventInput[]) => this.#appendAll(inputs));
    this.#append = (inputs) => append.immediate(inputs);
    this.#readAfter = db.transaction((query: AuditQuery, position: number, limit: number) => {
      const head = this.position();
      const { where, params } = filters(query, undefined);
      where.unshift('n > ? AND n <= ?');
      const rows = this.#statement(`SELECT * FROM audit_events WHERE ${where.join(' AND ')} ORDER BY n LIMIT ?`).all(
        position,
        head,
        ...params,
        limit,
      ) as AuditRow[];
      const last = rows.length === limit ? rows[rows.length - 1] : undefined;
      // Past the head: a position from another ledger (one purged and created again); go on from this one's head.
      return { events: rows.map(toAuditEvent), position: last === undefined ? head : last.n };
    });
  }

  /** Appends events to their chains in one write transaction; returns them as stored. */
  append(inputs: readonly AuditEventInput[]): AuditEvent[] {
    if (inputs.length === 0) return [];
    return this.#append(inputs);
  }

  #appendAll(inputs: readonly AuditEventInput[]): AuditEvent[] {
    const heads = new Map<string, { seq: number; hash: string }>();
    const now = new Date().toISOString();
    // Events of one batch mostly share their timestamp: check each distinct one once.
    let givenAt: string | undefined;
    let checkedAt = now;
    const stored: AuditEvent[] = new Array<AuditEvent>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i] as AuditEventInput;
      checkInput(input);
      const chain = chainKey(input.zone);
      let head = heads.get(chain);
      if (head === undefined) {
        const row = this.#head.get(chain) as [number, string] | undefined;
        head = row === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: row[0], hash: row[1] };
        heads.set(chain, head);
      }
      if (input.at !== undefined && input.at !== givenAt) {
        checkedAt = isoTime(input.at, 'at');
        givenAt = input.at;
      }
      const at = input.at === undefined ? now : checkedAt;
      const id = newId('event');
      const seq = head.seq + 1;
      const app = input.app ?? null;
      const resource = input.resource ?? null;
      const category = input.category ?? null;
      // Each object or list is serialised once, canonically: the same text is hashed and stored,
      // and the stored event keeps only what that JSON keeps, so it hashes exactly as it reads back.
      const scopes = input.scopes === undefined ? [] : input.scopes.slice();
      const policy = input.policy == null ? null : normalisePolicy(input.policy);
      const detail = jsonDetail(input.detail);
      const http =
        input.http == null
          ? null
          : {
              method: input.http.method,
              path: input.http.path,
              status: input.http.status ?? null,
              upstream_status: input.http.upstream_status ?? null,
              latency_ms: input.http.latency_ms ?? null,
            };
      const token = input.token == null ? null : { jti: input.token.jti, exp: input.token.exp };
      const event: { -readonly [K in keyof AuditEvent]: AuditEvent[K] } = {
        id,
        seq,
        at,
        zone: input.zone,
        request_id: input.request_id,
        type: input.type,
        app,
        resource,
        scopes,
        decision: input.decision,
        reason: input.reason,
        category,
        policy,
        http,
        token,
        detail: detail.value,
        prev_hash: head.hash,
        hash: '',
      };
      const json = storedEventJson(event, detail.json);
      event.hash = auditEventHash(head.hash, json);
      this.#insert.run(auditValues(event, chain, json));
      head.seq = seq;
      head.hash = event.hash;
      stored[i] = event;
    }
    return stored;
  }

  /**
   * Events matching every given filter, newest first by (at, n), one page at a time. A zone or
   * an indexed filter (app, resource, request ID, jti, a type other than gateway.request) is one
   * index range; any other list reads each chain's (chain, at) range and merges them.
   */
  query(query: AuditQuery): Page<AuditEvent> {
    const lead = leadingFilter(query);
    const { where, params } = filters(query, lead ?? 'zone');
    if (query.cursor !== undefined) {
      const { at, n } = decodeAuditCursor(query.cursor);
      where.push('at <= ? AND (at < ? OR n < ?)');
      params.push(at, at, n);
    }
    const limit = pageLimit(query.limit);
    const byChain = lead === undefined;
    if (byChain) where.push('chain = ?');
    // Both jti indexes fit a token's issuance; SQLite cannot tell which holds fewer rows.
    const from = lead === 'issuance' ? 'audit_events INDEXED BY audit_events_issuance' : 'audit_events';
    const statement = this.#statement(
      `SELECT * FROM ${from}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, n DESC LIMIT ?`,
    );
    let rows: AuditRow[];
    if (byChain) {
      rows = this.chains().flatMap((chain) => statement.all(...params, chain, limit + 1) as AuditRow[]);
      rows.sort(newestFirst);
      rows.length = Math.min(rows.length, limit + 1);
    } else {
      rows = statement.all(...params, limit + 1) as AuditRow[];
    }
    return toPage(rows, limit, (row) => `${row.at}|${row.n}`, toAuditEvent);
  }

  /** The append position of the newest event (0 while the ledger is empty). */
  position(): number {
    return this.#position.get() as number;
  }

  /**
   * Events matching the filters of `query` appended after `position`, oldest first, at most
   * `limit`, and the position to read from next (past events that did not match, too). One read
   * transaction, so an append committed meanwhile is neither skipped nor read twice.
   */
  readAfter(query: AuditQuery, position: number, limit: number): { events: AuditEvent[]; position: number } {
    if (!Number.isInteger(position) || position < 0 || !Number.isInteger(limit) || limit < 1) {
      throw new CaracalError('CRC_VALIDATION', 'An audit position must be a whole number of at least 0 and a limit at least 1.');
    }
    return this.#readAfter(query, position, Math.min(limit, CHAIN_PAGE_MAX));
  }

  #statement(sql: string): Statement {
    let statement = this.#queries.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#queries.set(sql, statement);
    }
    return statement;
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

/** The filters that have an index of their own, most selective first ('issuance': a jti's `token.issued` events). */
type IndexedFilter = 'requestId' | 'issuance' | 'jti' | 'app' | 'resource' | 'type' | 'zone';

/**
 * The filter whose index a list walks: the most selective one given. SQLite, without statistics,
 * cannot tell a token's 50 events from a type's 20,000 when both indexes give the order wanted,
 * so the others are written so that it does not use them (unary `+`).
 */
function leadingFilter(query: AuditQuery): IndexedFilter | undefined {
  if (query.requestId !== undefined) return 'requestId';
  if (query.jti !== undefined) return query.type === 'token.issued' ? 'issuance' : 'jti';
  if (query.app !== undefined) return 'app';
  if (query.resource !== undefined) return 'resource';
  if (query.type !== undefined && query.type !== 'gateway.request') return 'type';
  if (query.zone !== undefined) return 'zone';
  return undefined;
}

/** The WHERE terms and parameters of a query's filters (not its cursor); only `lead` may use its index. */
function filters(query: AuditQuery, lead: IndexedFilter | undefined): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  /** A term; one on an indexed column other than the lead's gets a unary `+`, which keeps SQLite off that index. */
  const filter = (index: IndexedFilter | null, sql: string, value: unknown) => {
    where.push(index === null || index === lead ? sql : `+${sql}`);
    params.push(value);
  };
  // A zone filter selects the zone's chain; `global` thus selects the zone-less events.
  if (query.zone !== undefined) filter('zone', 'chain = ?', query.zone);
  if (query.type !== undefined) filter('type', 'type = ?', query.type);
  // Restate the partial indexes' conditions, so SQLite knows the index holds these rows.
  if (lead === 'type') where.push(`type <> 'gateway.request'`);
  if (lead === 'issuance') where.push(`type = 'token.issued'`);
  if (query.decision !== undefined) filter(null, 'decision = ?', query.decision);
  if (query.app !== undefined) filter('app', 'app = ?', query.app);
  if (query.resource !== undefined) filter('resource', 'resource = ?', query.resource);
  if (query.requestId !== undefined) filter('requestId', 'request_id = ?', query.requestId);
  if (query.jti !== undefined) filter(lead === 'issuance' ? 'issuance' : 'jti', 'token_jti = ?', query.jti);
  // [since, until): inclusive start, exclusive end, so consecutive windows never overlap.
  if (query.since !== undefined) filter(null, 'at >= ?', isoTime(query.since, 'since'));
  if (query.until !== undefined) filter(null, 'at < ?', isoTime(query.until, 'until'));
  return { where, params };
}

function newestFirst(a: AuditRow, b: AuditRow): number {
  return a.at < b.at ? 1 : a.at > b.at ? -1 : b.n - a.n;
}

/** The (at, n) of the last event of a page, from its cursor. */
function decodeAuditCursor(cursor: string): { at: string; n: number } {
  const key = decodeCursor(cursor);
  const bar = key.lastIndexOf('|');
  const n = Number(key.slice(bar + 1));
  if (bar < 1 || !Number.isSafeInteger(n) || n < 1) throw badCursor();
  return { at: key.slice(0, bar), n };
}

function checkInput(input: AuditEventInput): void {
  if (!EVENT_TYPES.has(input.type) || !DECISIONS.has(input.decision) || typeof input.request_id !== 'string') {
    throw new CaracalError(
      'CRC_VALIDATION',
      `An audit event needs a known type (${auditEventTypes.join(', ')}), a decision (allow, deny, error) and a request_id; ` +
        `got type ${JSON.stringify(input.type)}, decision ${JSON.stringify(input.decision)}.`,
    );
  }
  if (input.zone === GLOBAL_CHAIN) {
    throw new CaracalError('CRC_VALIDATION', `"${GLOBAL_CHAIN}" names the chain of zone-less events; record them with zone null.`);
  }
  if (input.scopes !== undefined && !allStrings(input.scopes)) {
    throw new CaracalError('CRC_VALIDATION', 'An audit event\'s scopes must be strings.');
  }
  // The row's JSON body is written by hand: a field missing here would be stored unreadable.
  const { reason, token, http } = input;
  if (typeof reason !== 'string') throw new CaracalError('CRC_VALIDATION', 'An audit event needs a reason (a string).');
  if (token != null && (typeof token.jti !== 'string' || !Number.isFinite(token.exp))) {
    throw new CaracalError('CRC_VALIDATION', 'An audit event\'s token needs a jti (a string) and an exp (a number).');
  }
  if (http != null && (typeof http.method !== 'string' || typeof http.path !== 'string')) {
    throw new CaracalError('CRC_VALIDATION', 'An audit event\'s http needs a method and a path (strings).');
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

/**
 * An event's `detail` as stored: its canonical JSON, and the value that JSON reads back as. A flat
 * object of strings, finite numbers, booleans and nulls (what the Gateway records) is copied as it
 * is; anything else goes through JSON first, which drops what JSON cannot hold.
 */
function jsonDetail(detail: Readonly<Record<string, unknown>> | undefined): { json: string; value: Record<string, unknown> } {
  if (detail === undefined) return { json: '{}', value: {} };
  const value: Record<string, unknown> = {};
  for (const key in detail) {
    if (!Object.hasOwn(detail, key)) continue;
    const child = detail[key];
    if (child === undefined) continue;
    if (key === '__proto__' || (child !== null && typeof child !== 'string' && typeof child !== 'boolean' && !(typeof child === 'number' && Number.isFinite(child)))) {
      const copy = JSON.parse(JSON.stringify(detail)) as Record<string, unknown>;
      return { json: canonicalJson(copy), value: copy };
    }
    // JSON writes -0 as 0: keep what reads back.
    value[key] = child === 0 ? 0 : child;
  }
  return { json: canonicalJson(value), value };
}
