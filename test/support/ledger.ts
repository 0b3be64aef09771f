import Database from 'better-sqlite3';

/** One `gateway.request` row of the SQLite ledger, as stored. */
export interface GatewayRow {
  readonly request_id: string;
  readonly zone: string | null;
  readonly app: string | null;
  readonly resource: string | null;
  readonly decision: string;
  readonly reason: string;
  readonly category: string | null;
  readonly http_method: string | null;
  readonly http_path: string | null;
  readonly http_status: number | null;
  readonly http_upstream_status: number | null;
  readonly token_jti: string | null;
  readonly detail: string;
}

/**
 * Reads the ledger's events of one type, read-only (better-sqlite3 on `<home>/caracal.db`), in
 * append order. Safe while the services run (WAL); call after the Gateway stopped to see every event.
 */
export function readLedger(databasePath: string, type = 'gateway.request'): GatewayRow[] {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT request_id, CASE chain WHEN 'global' THEN NULL ELSE chain END AS zone, app, resource, decision,
                body ->> '$.reason' AS reason, body ->> '$.category' AS category, body ->> '$.http.method' AS http_method,
                body ->> '$.http.path' AS http_path, body ->> '$.http.status' AS http_status,
                body ->> '$.http.upstream_status' AS http_upstream_status, token_jti, body -> '$.detail' AS detail
           FROM audit_events WHERE type = ? ORDER BY n`,
      )
      .all(type) as GatewayRow[];
  } finally {
    db.close();
  }
}
