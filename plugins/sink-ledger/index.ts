import type { AuditRecorder } from '../../core/audit/sink.js';
import type { Store } from '../../core/store/store.js';

/** The built-in `ledger` (DESIGN.md §7): the primary recorder, appending to the store's hash chains. */
export function ledgerSink(store: Pick<Store, 'appendAudit'>): AuditRecorder & { readonly name: 'ledger' } {
  return { name: 'ledger', record: (inputs) => store.appendAudit(inputs) };
}
