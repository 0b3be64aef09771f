/**
 * The SQLite schema as numbered, forward-only migrations: `migrations[i]` takes the database from
 * version i to i+1. A shipped migration is never edited; a change is a new entry at the end.
 * Applied in one transaction on open and recorded in `schema_migrations(version, applied_at)`.
 */

/** Tables whose changes `watch()` reports (see `store_changes` below). */
export const WATCHED_TABLES = [
  'zones',
  'apps',
  'resources',
  'providers',
  'policies',
  'policy_versions',
  'policy_sets',
  'policy_set_versions',
  'active_policy_sets',
  'signing_keys',
  'revocations',
] as const;

// Every change to configuration bumps one counter, so a watcher can tell a configuration change by
// another process from the audit appends that also move PRAGMA data_version several times a second.
const changeTriggers = WATCHED_TABLES.flatMap((table) =>
  (['INSERT', 'UPDATE', 'DELETE'] as const).map(
    (op) =>
      `CREATE TRIGGER ${table}_${op.toLowerCase()}_changes AFTER ${op} ON ${table} BEGIN
         UPDATE store_changes SET counter = counter + 1 WHERE id = 1;
       END;`,
  ),
).join('\n');

const v1 = `
CREATE TABLE zones (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('evaluation', 'production')),
  description TEXT NOT NULL DEFAULT '',
  allowed_private_hosts TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE apps (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  secret_hash TEXT NOT NULL,
  secret_rotated_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (zone_id, name)
);

CREATE TABLE providers (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  config TEXT NOT NULL DEFAULT '{}',
  credentials_sealed TEXT NOT NULL,
  credential_keys TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (zone_id, name)
);

CREATE TABLE resources (
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  scopes TEXT NOT NULL DEFAULT '[]',
  upstream_url TEXT NOT NULL,
  -- NO ACTION (checked at statement end) so that deleting a zone cascades cleanly, while deleting
  -- a provider that a resource still uses is refused.
  provider_id TEXT REFERENCES providers(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (zone_id, id),
  UNIQUE (zone_id, name)
);
CREATE INDEX resources_provider ON resources(provider_id);

CREATE TABLE policies (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  latest_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  UNIQUE (zone_id, name)
);

CREATE TABLE policy_versions (
  policy_id TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
  version INTEGER NOT NULL CHECK (version >= 1),
  format TEXT NOT NULL CHECK (format IN ('toml', 'json')),
  source TEXT NOT NULL,
  rules TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (policy_id, version)
);
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE ON policy_versions
BEGIN SELECT RAISE(ABORT, 'policy versions are immutable'); END;

CREATE TABLE policy_sets (
  id TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  latest_version INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  UNIQUE (zone_id, name)
);

CREATE TABLE policy_set_versions (
  policy_set_id TEXT NOT NULL REFERENCES policy_sets(id) ON DELETE CASCADE,
  version INTEGER NOT NULL CHECK (version >= 1),
  -- Ordered [{"policyId","version"}]; each member is checked to exist in the zone on insert.
  policies TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (policy_set_id, version)
);
CREATE TRIGGER policy_set_versions_immutable BEFORE UPDATE ON policy_set_versions
BEGIN SELECT RAISE(ABORT, 'policy set versions are immutable'); END;

CREATE TABLE active_policy_sets (
  zone_id TEXT PRIMARY KEY REFERENCES zones(id) ON DELETE CASCADE,
  policy_set_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  activated_at TEXT NOT NULL,
  FOREIGN KEY (policy_set_id, version) REFERENCES policy_set_versions(policy_set_id, version) ON DELETE CASCADE
);

CREATE TABLE policy_activations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  policy_set_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  activated_at TEXT NOT NULL
);
CREATE INDEX policy_activations_zone ON policy_activations(zone_id, seq);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_sealed TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  created_at TEXT NOT NULL,
  retire_after TEXT
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys(zone_id) WHERE status = 'active';

CREATE TABLE revocations (
  kind TEXT NOT NULL CHECK (kind IN ('jti', 'app')),
  value TEXT NOT NULL,
  zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
  reason TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  not_before TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (zone_id, kind, value)
);
CREATE INDEX revocations_expiry ON revocations(expires_at);

-- The ledger: append-only, one hash chain per zone ('global' for zone-less events). No foreign
-- key to zones: the record of a zone outlives the zone.
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  zone TEXT,
  request_id TEXT NOT NULL,
  type TEXT NOT NULL,
  app TEXT,
  resource TEXT,
  scopes TEXT NOT NULL,
  decision TEXT NOT NULL,
  reason TEXT NOT NULL,
  category TEXT,
  policy TEXT,
  http_method TEXT,
  http_path TEXT,
  http_status INTEGER,
  http_upstream_status INTEGER,
  http_latency_ms REAL,
  token_jti TEXT,
  token_exp INTEGER,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE UNIQUE INDEX audit_events_chain_seq ON audit_events(chain, seq);
CREATE INDEX audit_events_request_id ON audit_events(request_id);
CREATE INDEX audit_events_type ON audit_events(type, id);
CREATE INDEX audit_events_app ON audit_events(app, id);
CREATE INDEX audit_events_resource ON audit_events(resource, id);
CREATE INDEX audit_events_at ON audit_events(at);
CREATE INDEX audit_events_token_jti ON audit_events(token_jti);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;

CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE store_changes (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  counter INTEGER NOT NULL
);
INSERT INTO store_changes (id, counter) VALUES (1, 0);
${changeTriggers}
`;

/**
 * v2: audit list and explain at ledger scale (bench/explain.ts, 1,000,000 events). A zone filter
 * (the chain) newest first walks (chain, id) instead of sorting the zone's whole chain; explain
 * finds a token's issuance by (token_jti, type) instead of walking every `token.issued` event
 * (52 ms → 0.4 ms at the median). An index on (chain, at) was tried and left out: SQLite then
 * sorts every row of a recent window (3× slower for `--zone Z --since 1h`).
 */
const v2 = `
CREATE INDEX audit_events_chain_id ON audit_events(chain, id);
CREATE INDEX audit_events_jti_type ON audit_events(token_jti, type, id);
`;

/**
 * v3: the ledger keeps one index fewer per appended event. (token_jti) alone is a prefix of v2's
 * (token_jti, type, id), which answers every lookup it did; each secondary index costs every append
 * a B-tree insert, and appends are what the Gateway's audit thread does all day.
 */
const v3 = `
DROP INDEX audit_events_token_jti;
`;

/**
 * v4: the ledger at the Gateway's pace, and time windows at ledger scale.
 * - An event is one row of eleven values: the columns the ledger filters, orders and chains by,
 *   and `body`, the JSON of every other field (binding 24 values cost more than hashing the event).
 * - The rowid `n` is the append position. It orders the live tail exactly, even between processes
 *   whose clocks disagree, and every index ends in it, so no index needs the event ID any more.
 * - Lists are ordered by (at, n), newest first, and each filter's index is (filter, at): a time
 *   window in one zone, app or resource is one index range, however old. Lists without such a
 *   filter merge the zones' (chain, at) ranges, so no index on `at` alone is kept.
 * - Indexes that most events would not use skip them: the type index holds only types other than
 *   `gateway.request` (nearly every event), and app, resource and jti leave out nulls.
 * Existing events are copied field for field (SQLite's JSON writes numbers so they read back
 * exactly), so every chain verifies as before.
 */
const v4 = `
CREATE TABLE audit_ledger (
  n INTEGER PRIMARY KEY,
  chain TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at TEXT NOT NULL,
  request_id TEXT NOT NULL,
  type TEXT NOT NULL,
  app TEXT,
  resource TEXT,
  decision TEXT NOT NULL,
  token_jti TEXT,
  body TEXT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_ledger (chain, seq, at, request_id, type, app, resource, decision, token_jti, body, hash)
SELECT chain, seq, at, request_id, type, app, resource, decision, token_jti,
  json_object(
    'category', category,
    'detail', json(detail),
    'http', CASE WHEN http_method IS NULL THEN NULL ELSE json_object(
      'latency_ms', http_latency_ms, 'method', http_method, 'path', http_path,
      'status', http_status, 'upstream_status', http_upstream_status) END,
    'id', id,
    'policy', json(policy),
    'prev_hash', prev_hash,
    'reason', reason,
    'scopes', json(scopes),
    'token_exp', token_exp),
  hash
FROM audit_events ORDER BY rowid;
DROP TABLE audit_events;
ALTER TABLE audit_ledger RENAME TO audit_events;
CREATE UNIQUE INDEX audit_events_chain_seq ON audit_events(chain, seq);
CREATE INDEX audit_events_chain_at ON audit_events(chain, at);
CREATE INDEX audit_events_request_id ON audit_events(request_id);
CREATE INDEX audit_events_app_at ON audit_events(app, at) WHERE app IS NOT NULL;
CREATE INDEX audit_events_resource_at ON audit_events(resource, at) WHERE resource IS NOT NULL;
CREATE INDEX audit_events_jti_at ON audit_events(token_jti, at) WHERE token_jti IS NOT NULL;
CREATE INDEX audit_events_type_at ON audit_events(type, at) WHERE type <> 'gateway.request';
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit ledger is append-only'); END;
`;

/**
 * v5: explain finds a token's issuance among its own few `token.issued` events, not by walking
 * every call the token made (v4's jti index holds them all; a busy token makes thousands an hour).
 */
const v5 = `
CREATE INDEX audit_events_issuance ON audit_events(token_jti) WHERE type = 'token.issued';
`;

/** The migrations, in order; the schema version is `migrations.length` once all are applied. */
export const migrations: readonly string[] = [v1, v2, v3, v4, v5];

/** Every table the schema creates (a database holding others is not Caracal's). */
export const knownTables: readonly string[] = [
  'schema_migrations',
  ...WATCHED_TABLES,
  'policy_activations',
  'audit_events',
  'settings',
  'store_changes',
];
