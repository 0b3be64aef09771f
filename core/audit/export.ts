import type { KeyObject } from 'node:crypto';
import { CaracalError } from '../errors.js';
import type { Store } from '../store/store.js';
import { createAuditVerifier, type ChainReport } from './checkpoint-verify.js';
import { parseAuditPublicKey, type AuditPublicKey, type AuditSigningKey } from './checkpoint-key.js';
import { readCheckpointSignature, signCheckpoint } from './checkpoint.js';
import type { AuditEvent } from './event.js';

/**
 * The audit export format (DESIGN.md §7, docs/audit.md): JSON lines.
 *
 *   {"kind":"header","format":"caracal-audit-export","version":1,"exported_at":…,"chains":[…],"public_keys":[{key_id,alg,pem}]}
 *   {"kind":"event","event":{…}}      every event of a chain, in seq order, checkpoints included
 *   {"kind":"head","head":{…}}        after a chain's events: its last (seq, hash), signed at export time
 *   {"kind":"warning","chain":…,"message":…}   a chain that did not verify when exported (no head then)
 *
 * Whole chains are exported from seq 1, so a verifier needs nothing but the file and the public key.
 */
export const EXPORT_FORMAT = 'caracal-audit-export';

export interface ExportHeader {
  readonly kind: 'header';
  readonly format: typeof EXPORT_FORMAT;
  readonly version: 1;
  readonly exported_at: string;
  readonly chains: readonly string[];
  readonly public_keys: readonly { readonly key_id: string; readonly alg: 'Ed25519'; readonly pem: string }[];
}

/** The public keys an installation has signed checkpoints with (store setting `audit.public_keys`). */
export const PUBLIC_KEYS_SETTING = 'audit.public_keys';

/** Adds a public key to the installation's list in the store (idempotent). */
export async function publishAuditKey(store: Pick<Store, 'getSetting' | 'setSetting'>, key: AuditPublicKey): Promise<void> {
  const known = await knownAuditKeys(store);
  if (known.some((k) => k.keyId === key.keyId)) return;
  const list = [...known, key].map((k) => ({ key_id: k.keyId, pem: k.publicKeyPem }));
  await store.setSetting(PUBLIC_KEYS_SETTING, JSON.stringify(list));
}

/** Every audit public key recorded in the store. */
export async function knownAuditKeys(store: Pick<Store, 'getSetting'>): Promise<AuditPublicKey[]> {
  const text = await store.getSetting(PUBLIC_KEYS_SETTING);
  if (text === undefined) return [];
  try {
    const list = JSON.parse(text) as { key_id: string; pem: string }[];
    return list.map((k) => parseAuditPublicKey(k.pem, `store setting ${PUBLIC_KEYS_SETTING}`));
  } catch {
    return [];
  }
}

/** Key ID → key, for the verifier. */
export function keyMap(keys: readonly AuditPublicKey[]): Map<string, KeyObject> {
  return new Map(keys.map((k) => [k.keyId, k.publicKey]));
}

/**
 * Yields the export's lines (each ending in "\n"), chain by chain, page by page, verifying as it
 * goes: a chain whose links or checkpoints fail gets a warning line instead of a signed head (its
 * events are still exported as stored, for forensics).
 */
export async function* exportAudit(
  store: Pick<Store, 'listAuditChains' | 'readAuditChain'>,
  key: AuditSigningKey,
  options: { readonly chains?: readonly string[]; readonly publicKeys?: readonly AuditPublicKey[]; readonly now?: () => Date } = {},
): AsyncGenerator<string> {
  const now = options.now ?? (() => new Date());
  const chains = options.chains ?? (await store.listAuditChains());
  const keys = new Map<string, AuditPublicKey>([[key.keyId, key], ...(options.publicKeys ?? []).map((k) => [k.keyId, k] as const)]);
  const header: ExportHeader = {
    kind: 'header',
    format: EXPORT_FORMAT,
    version: 1,
    exported_at: now().toISOString(),
    chains,
    public_keys: [...keys.values()].map((k) => ({ key_id: k.keyId, alg: 'Ed25519', pem: k.publicKeyPem })),
  };
  yield `${JSON.stringify(header)}\n`;
  const verifier = createAuditVerifier(keyMap([...keys.values()]));
  for (const chain of chains) {
    let fromSeq = 1;
    let last: AuditEvent | undefined;
    for (;;) {
      const page = await store.readAuditChain(chain, fromSeq, 1000);
      if (page.length === 0) break;
      let out = '';
      for (const event of page) {
        verifier.push(event);
        out += `${JSON.stringify({ kind: 'event', event })}\n`;
      }
      yield out;
      last = page[page.length - 1];
      fromSeq = Math.max(fromSeq, last?.seq ?? fromSeq) + 1;
    }
    if (last === undefined) continue;
    const report = verifier.results().find((r) => r.chain === chain);
    if (report?.ok === true) {
      const head = signCheckpoint(key, { chain, seq: last.seq, hash: last.hash, signed_at: now().toISOString() });
      yield `${JSON.stringify({ kind: 'head', head })}\n`;
    } else {
      yield `${JSON.stringify({ kind: 'warning', chain, message: `chain ${chain} did not verify when exported: ${report?.first_bad?.message ?? 'unknown fault'}` })}\n`;
    }
  }
}

/** The outcome of verifying an export file. */
export interface ExportVerification {
  readonly ok: boolean;
  readonly exported_at: string | null;
  /** The key IDs the file was checked against, and where they came from. */
  readonly keys: readonly string[];
  readonly key_source: 'file' | 'given';
  readonly chains: readonly ChainReport[];
  /** Problems with the file itself (bad lines, missing header, chains without a signed head). */
  readonly problems: readonly string[];
}

/**
 * Verifies an export offline: every chain's links, every checkpoint's signature and the signed
 * head at the end of each chain. `publicKey` (PEM) is the key the auditor trusts; without it the
 * keys embedded in the file are used (which proves the file is intact and self-consistent, and the
 * result names the key ID to compare with `caracal audit key`).
 */
export async function verifyExport(lines: AsyncIterable<string> | Iterable<string>, options: { readonly publicKey?: AuditPublicKey } = {}): Promise<ExportVerification> {
  let header: ExportHeader | undefined;
  let verifier: ReturnType<typeof createAuditVerifier> | undefined;
  const problems: string[] = [];
  const heads = new Set<string>();
  const seen = new Set<string>();
  let keys: string[] = [];
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo += 1;
    const line = raw.trim();
    if (line === '') continue;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      problems.push(`line ${lineNo} is not JSON`);
      if (verifier === undefined) break;
      continue;
    }
    if (verifier === undefined) {
      if (record.kind !== 'header' || record.format !== EXPORT_FORMAT) {
        problems.push(`line ${lineNo}: the file does not start with a ${EXPORT_FORMAT} header; it is not a Caracal audit export`);
        break;
      }
      header = record as unknown as ExportHeader;
      const trusted = options.publicKey !== undefined ? [options.publicKey] : (header.public_keys ?? []).map((k) => parseAuditPublicKey(k.pem, `the export header key ${k.key_id}`));
      keys = trusted.map((k) => k.keyId);
      verifier = createAuditVerifier(keyMap(trusted));
      continue;
    }
    if (record.kind === 'event' && typeof record.event === 'object' && record.event !== null) {
      const event = record.event as AuditEvent;
      seen.add(event.zone ?? 'global');
      verifier.push(event);
    } else if (record.kind === 'head') {
      const head = readCheckpointSignature(record.head);
      if (head === undefined) problems.push(`line ${lineNo}: a malformed signed head`);
      else {
        heads.add(head.chain);
        verifier.pushHead(head);
      }
    } else if (record.kind === 'warning') {
      problems.push(`the exporter warned: ${String(record.message)}`);
    } else {
      problems.push(`line ${lineNo}: unknown record kind ${JSON.stringify(record.kind)}`);
    }
  }
  if (verifier === undefined) {
    if (problems.length === 0) problems.push('the file is empty');
    return { ok: false, exported_at: null, keys, key_source: options.publicKey ? 'given' : 'file', chains: [], problems };
  }
  for (const chain of header?.chains ?? []) {
    if (!heads.has(chain) && seen.has(chain)) problems.push(`chain ${chain} has no signed head: its last events are not covered by a signature`);
  }
  const chains = verifier.results();
  return {
    ok: problems.length === 0 && chains.every((c) => c.ok),
    exported_at: header?.exported_at ?? null,
    keys,
    key_source: options.publicKey ? 'given' : 'file',
    chains,
    problems,
  };
}

/** Throws a clear error for a file that cannot be read at all. */
export function exportReadError(path: string, error: unknown): CaracalError {
  return new CaracalError('CRC_USAGE', `cannot read the audit export ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
}

/** Verifies the ledger in a store: every chain's links and checkpoint signatures (DESIGN.md §7). */
export async function verifyLedger(
  store: Pick<Store, 'listAuditChains' | 'readAuditChain'>,
  publicKeys: readonly AuditPublicKey[],
  options: { readonly chains?: readonly string[] } = {},
): Promise<ChainReport[]> {
  const verifier = createAuditVerifier(keyMap(publicKeys));
  const chains = options.chains ?? (await store.listAuditChains());
  for (const chain of chains) {
    let fromSeq = 1;
    for (;;) {
      const page = await store.readAuditChain(chain, fromSeq, 1000);
      const last = page[page.length - 1];
      if (last === undefined) break;
      for (const event of page) verifier.push(event);
      // Continue after the highest seq seen so a broken order cannot make the reader loop.
      fromSeq = Math.max(fromSeq, last.seq) + 1;
    }
  }
  return verifier.results();
}
