/**
 * The console's remembered preferences (DESIGN.md §10): the last zone per control plane and the
 * audit filters. Stored with conf as `<config dir>/console.json` (the file `caracal purge`
 * removes). Only IDs and filter words are kept, each checked against a strict pattern when read
 * and written, so nothing that looks like a secret can land in the file even by mistake.
 */

/** The audit filters the console remembers (DESIGN.md §7 names). */
export interface AuditFilterPrefs {
  readonly decision?: 'allow' | 'deny' | 'error';
  readonly type?: string;
  readonly app?: string;
  readonly resource?: string;
  readonly request_id?: string;
  readonly since?: string;
  readonly until?: string;
}

/** What the file holds. */
export interface PrefsData {
  /** Control URL → zone ID. */
  readonly lastZone: Readonly<Record<string, string>>;
  readonly audit: AuditFilterPrefs;
}

/** The preferences as views see them. */
export interface Prefs {
  lastZone(controlUrl: string): string | undefined;
  setLastZone(controlUrl: string, zoneId: string): void;
  auditFilters(): AuditFilterPrefs;
  setAuditFilters(filters: AuditFilterPrefs): void;
}

/** Where prefs are read from and written to (conf in the console; a plain object in tests). */
export interface PrefsBackend {
  read(): unknown;
  write(data: PrefsData): void;
}

const ZONE_ID = /^zn_[0-9A-Za-z]{1,64}$/;
const FILTER_PATTERNS: Readonly<Record<keyof AuditFilterPrefs, RegExp>> = {
  decision: /^(allow|deny|error)$/,
  type: /^[a-z]+\.[a-z]+$/,
  app: /^[A-Za-z0-9_.:-]{1,100}$/,
  resource: /^[A-Za-z0-9_.:/-]{1,120}$/,
  request_id: /^[\x21-\x7e]{1,128}$/,
  since: /^([0-9]{1,6}[smhdw]|[0-9T:.+Z-]{10,40})$/,
  until: /^([0-9]{1,6}[smhdw]|[0-9T:.+Z-]{10,40})$/,
};
const SECRET_LIKE = /^(cs_|eyJ)/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps the filters that match their pattern and do not look like a secret; drops the rest. */
export function cleanAuditFilters(value: unknown): AuditFilterPrefs {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, pattern] of Object.entries(FILTER_PATTERNS)) {
    const v = value[key];
    if (typeof v === 'string' && pattern.test(v) && !SECRET_LIKE.test(v)) out[key] = v;
  }
  return out;
}

/** Reads whatever the file held into valid PrefsData (unknown keys and bad values are dropped). */
export function cleanPrefs(raw: unknown): PrefsData {
  const data = isRecord(raw) ? raw : {};
  const lastZone: Record<string, string> = {};
  if (isRecord(data.lastZone)) {
    for (const [url, zone] of Object.entries(data.lastZone)) {
      if (/^https?:\/\/[^\s]{1,200}$/.test(url) && typeof zone === 'string' && ZONE_ID.test(zone)) lastZone[url] = zone;
    }
  }
  return { lastZone, audit: cleanAuditFilters(data.audit) };
}

/** Creates the preferences over a backend; writes are cleaned the same way as reads. */
export function createPrefs(backend: PrefsBackend): Prefs {
  let data = cleanPrefs(backend.read());
  const save = (next: PrefsData) => {
    data = cleanPrefs(next);
    try {
      backend.write(data);
    } catch {
      // A read-only config dir must not break the console: the preference lives for this session.
    }
  };
  return {
    lastZone: (url) => data.lastZone[url],
    setLastZone: (url, zoneId) => save({ ...data, lastZone: { ...data.lastZone, [url]: zoneId } }),
    auditFilters: () => data.audit,
    setAuditFilters: (filters) => save({ ...data, audit: filters }),
  };
}

/** Opens `<configDir>/console.json` with conf (file mode 0600); falls back to memory when unusable. */
export async function openPrefs(configDir: string): Promise<Prefs> {
  const memory: PrefsBackend = { read: () => ({}), write: () => undefined };
  try {
    const { default: Conf } = await import('conf');
    const conf = new Conf<Record<string, unknown>>({ cwd: configDir, configName: 'console', configFileMode: 0o600, clearInvalidConfig: true });
    return createPrefs({ read: () => conf.store, write: (data) => (conf.store = { ...data }) });
  } catch {
    return createPrefs(memory);
  }
}
