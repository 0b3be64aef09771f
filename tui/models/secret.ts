/**
 * The one-time secret shown after an app is created or its secret rotated (DESIGN.md §3, §10):
 * masked unless revealed on purpose, held only in the view's memory, gone when dismissed.
 */

/** `cs_` and a row of dots as long as the rest, so the masked form gives nothing away but its kind. */
export function maskSecret(secret: string): string {
  const prefix = /^[a-z]{2,4}_/.exec(secret)?.[0] ?? '';
  return `${prefix}${'•'.repeat(Math.min(43, Math.max(8, secret.length - prefix.length)))}`;
}

/** The lines of the secret panel: what the secret is for, the secret (masked or not), the keys. */
export function secretPanel(appName: string, appId: string, secret: string, revealed: boolean, action: 'created' | 'rotated'): string[] {
  return [
    `${action === 'created' ? 'New app' : 'New secret for'} ${appName} (${appId}) — the client secret is shown this once:`,
    `  ${revealed ? secret : maskSecret(secret)}`,
    `${revealed ? 'v hides it' : 'v reveals it'} · x forgets it (copy it first: it cannot be shown again; S-r rotates a new one)`,
  ];
}
