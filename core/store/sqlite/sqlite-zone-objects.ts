import { isResourceId, newId, normalizeResourceId } from '../../domain/ids.js';
import type { App, ListOptions, Page, Provider, Resource, Zone } from '../../domain/types.js';
import { CaracalError } from '../../errors.js';
import type {
  AppPatch,
  NewApp,
  NewProvider,
  NewResource,
  NewZone,
  ProviderPatch,
  ResourcePatch,
  ZonePatch,
} from '../store.js';
import { checkName, checkObject, checkOneOf, checkSealed, checkSecretHash, checkStrings, checkUpstreamUrl } from './checks.js';
import { toApp, toProvider, toResource, toZone } from './rows.js';
import type { AppRow, ProviderRow, ResourceRow, ZoneRow } from './rows.js';
import { notFound, now } from './sqlite-db.js';
import type { SqliteDb } from './sqlite-db.js';

const ZONE_KINDS = ['evaluation', 'production'] as const;

/**
 * Zones and what lives in them — apps, resources, providers — in SQLite. Deleting a zone deletes
 * everything configured in it (the schema cascades); deleting a provider a resource still uses is
 * refused.
 */
export class SqliteZoneObjects {
  readonly #db: SqliteDb;

  constructor(db: SqliteDb) {
    this.#db = db;
  }

  // Zones

  createZone(input: NewZone): Promise<Zone> {
    return this.#db.run(() => {
      const time = now();
      const zone: Zone = {
        id: newId('zone'),
        name: checkName(input.name, 'zone', 'zone'),
        kind: checkOneOf(input.kind, ZONE_KINDS, 'kind'),
        description: input.description ?? '',
        allowedPrivateHosts: checkStrings(input.allowedPrivateHosts ?? [], 'allowedPrivateHosts'),
        createdAt: time,
        updatedAt: time,
      };
      this.#insertZone(zone);
      return zone;
    });
  }

  getZone(ref: string): Promise<Zone | undefined> {
    return this.#db.run(() => {
      const row = (this.#db.sql('SELECT * FROM zones WHERE id = ?').get(ref) ??
        this.#db.sql('SELECT * FROM zones WHERE name = ?').get(ref)) as ZoneRow | undefined;
      return row && toZone(row);
    });
  }

  listZones(options: ListOptions = {}): Promise<Page<Zone>> {
    return this.#db.run(() => this.#db.list<ZoneRow, Zone>('SELECT * FROM zones WHERE', [], options, toZone));
  }

  updateZone(id: string, patch: ZonePatch): Promise<Zone> {
    return this.#db.write(() => {
      const current = this.#db.requireZone(id);
      const zone: Zone = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'zone', 'zone'),
        kind: patch.kind === undefined ? current.kind : checkOneOf(patch.kind, ZONE_KINDS, 'kind'),
        description: patch.description ?? current.description,
        allowedPrivateHosts:
          patch.allowedPrivateHosts === undefined
            ? current.allowedPrivateHosts
            : checkStrings(patch.allowedPrivateHosts, 'allowedPrivateHosts'),
        updatedAt: now(),
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `UPDATE zones SET name = ?, kind = ?, description = ?, allowed_private_hosts = ?, updated_at = ?
             WHERE id = ?`,
          ).run(zone.name, zone.kind, zone.description, JSON.stringify(zone.allowedPrivateHosts), zone.updatedAt, id),
        { name: `A zone named "${zone.name}" already exists; choose another name.` },
      );
      return zone;
    });
  }

  deleteZone(id: string): Promise<void> {
    return this.#db.run(() => this.#db.remove('DELETE FROM zones WHERE id = ?', [id], `Zone ${id}`));
  }

  // Apps

  createApp(input: NewApp): Promise<App> {
    return this.#db.write(() => {
      this.#db.requireZone(input.zoneId);
      const time = now();
      const app: App = {
        id: newId('app'),
        zoneId: input.zoneId,
        name: checkName(input.name, 'app', 'app'),
        description: input.description ?? '',
        disabled: false,
        secretHash: checkSecretHash(input.secretHash),
        secretRotatedAt: time,
        createdAt: time,
        updatedAt: time,
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `INSERT INTO apps (id, zone_id, name, description, disabled, secret_hash, secret_rotated_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)`,
          ).run(app.id, app.zoneId, app.name, app.description, app.secretHash, time, time, time),
        { name: `An app named "${app.name}" already exists in zone ${app.zoneId}; choose another name.` },
      );
      return app;
    });
  }

  getApp(zoneId: string, ref: string): Promise<App | undefined> {
    return this.#db.run(() => {
      const row = this.#db.byRef<AppRow>('apps', zoneId, ref);
      return row && toApp(row);
    });
  }

  getAppById(id: string): Promise<App | undefined> {
    return this.#db.run(() => {
      const row = this.#db.sql('SELECT * FROM apps WHERE id = ?').get(id) as AppRow | undefined;
      return row && toApp(row);
    });
  }

  listApps(zoneId: string, options: ListOptions & { readonly disabled?: boolean } = {}): Promise<Page<App>> {
    return this.#db.run(() => {
      const params: unknown[] = [zoneId];
      let sql = 'SELECT * FROM apps WHERE zone_id = ? AND';
      if (options.disabled !== undefined) {
        sql += ' disabled = ? AND';
        params.push(options.disabled ? 1 : 0);
      }
      return this.#db.list<AppRow, App>(sql, params, options, toApp);
    });
  }

  updateApp(id: string, patch: AppPatch): Promise<App> {
    return this.#db.write(() => {
      const row = this.#db.sql('SELECT * FROM apps WHERE id = ?').get(id) as AppRow | undefined;
      if (row === undefined) throw notFound(`App ${id}`);
      const current = toApp(row);
      const time = now();
      const rotated = patch.secretHash !== undefined;
      const app: App = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'app', 'app'),
        description: patch.description ?? current.description,
        disabled: patch.disabled ?? current.disabled,
        secretHash: rotated ? checkSecretHash(patch.secretHash) : current.secretHash,
        secretRotatedAt: rotated ? time : current.secretRotatedAt,
        updatedAt: time,
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `UPDATE apps SET name = ?, description = ?, disabled = ?, secret_hash = ?, secret_rotated_at = ?, updated_at = ?
             WHERE id = ?`,
          ).run(app.name, app.description, app.disabled ? 1 : 0, app.secretHash, app.secretRotatedAt, time, id),
        { name: `An app named "${app.name}" already exists in zone ${app.zoneId}; choose another name.` },
      );
      return app;
    });
  }

  deleteApp(id: string): Promise<void> {
    return this.#db.run(() => this.#db.remove('DELETE FROM apps WHERE id = ?', [id], `App ${id}`));
  }

  // Resources

  createResource(input: NewResource): Promise<Resource> {
    return this.#db.write(() => {
      this.#db.requireZone(input.zoneId);
      const id = normalizeResourceId(input.id);
      const time = now();
      const resource: Resource = {
        id,
        zoneId: input.zoneId,
        name: checkName(input.name ?? id.slice('resource://'.length), 'resource'),
        description: input.description ?? '',
        scopes: checkStrings(input.scopes, 'scopes'),
        upstreamUrl: checkUpstreamUrl(input.upstreamUrl),
        providerId: this.#checkProviderRef(input.zoneId, input.providerId ?? null),
        createdAt: time,
        updatedAt: time,
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `INSERT INTO resources (zone_id, id, name, description, scopes, upstream_url, provider_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            resource.zoneId,
            resource.id,
            resource.name,
            resource.description,
            JSON.stringify(resource.scopes),
            resource.upstreamUrl,
            resource.providerId,
            time,
            time,
          ),
        {
          id: `Resource ${id} already exists in zone ${resource.zoneId}.`,
          name: `A resource named "${resource.name}" already exists in zone ${resource.zoneId}; choose another name.`,
        },
      );
      return resource;
    });
  }

  getResource(zoneId: string, resourceId: string): Promise<Resource | undefined> {
    return this.#db.run(() => {
      // An ill-formed ID names no resource: answer "not here" rather than fail the lookup.
      if (!isResourceId(resourceId)) return undefined;
      const row = this.#db.sql('SELECT * FROM resources WHERE zone_id = ? AND id = ?').get(
        zoneId,
        normalizeResourceId(resourceId),
      ) as ResourceRow | undefined;
      return row && toResource(row);
    });
  }

  listResources(zoneId: string, options: ListOptions = {}): Promise<Page<Resource>> {
    return this.#db.run(() =>
      this.#db.list<ResourceRow, Resource>('SELECT * FROM resources WHERE zone_id = ? AND', [zoneId], options, toResource),
    );
  }

  updateResource(zoneId: string, resourceId: string, patch: ResourcePatch): Promise<Resource> {
    return this.#db.write(() => {
      const id = normalizeResourceId(resourceId);
      const row = this.#db.sql('SELECT * FROM resources WHERE zone_id = ? AND id = ?').get(zoneId, id) as
        | ResourceRow
        | undefined;
      if (row === undefined) throw notFound(`Resource ${id} in zone ${zoneId}`);
      const current = toResource(row);
      const resource: Resource = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'resource'),
        description: patch.description ?? current.description,
        scopes: patch.scopes === undefined ? current.scopes : checkStrings(patch.scopes, 'scopes'),
        upstreamUrl: patch.upstreamUrl === undefined ? current.upstreamUrl : checkUpstreamUrl(patch.upstreamUrl),
        providerId: patch.providerId === undefined ? current.providerId : this.#checkProviderRef(zoneId, patch.providerId),
        updatedAt: now(),
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `UPDATE resources SET name = ?, description = ?, scopes = ?, upstream_url = ?, provider_id = ?, updated_at = ?
             WHERE zone_id = ? AND id = ?`,
          ).run(
            resource.name,
            resource.description,
            JSON.stringify(resource.scopes),
            resource.upstreamUrl,
            resource.providerId,
            resource.updatedAt,
            zoneId,
            id,
          ),
        { name: `A resource named "${resource.name}" already exists in zone ${zoneId}; choose another name.` },
      );
      return resource;
    });
  }

  deleteResource(zoneId: string, resourceId: string): Promise<void> {
    return this.#db.run(() => {
      const id = normalizeResourceId(resourceId);
      this.#db.remove('DELETE FROM resources WHERE zone_id = ? AND id = ?', [zoneId, id], `Resource ${id} in zone ${zoneId}`);
    });
  }

  // Providers

  createProvider(input: NewProvider): Promise<Provider> {
    return this.#db.write(() => {
      this.#db.requireZone(input.zoneId);
      const time = now();
      const provider: Provider = {
        id: newId('provider'),
        zoneId: input.zoneId,
        name: checkName(input.name, 'provider', 'provider'),
        kind: checkName(input.kind, 'provider kind') as Provider['kind'],
        config: checkObject(input.config, 'config'),
        credentialsSealed: checkSealed(input.credentialsSealed, 'credentialsSealed'),
        credentialKeys: checkStrings(input.credentialKeys, 'credentialKeys'),
        createdAt: time,
        updatedAt: time,
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `INSERT INTO providers (id, zone_id, name, kind, config, credentials_sealed, credential_keys, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            provider.id,
            provider.zoneId,
            provider.name,
            provider.kind,
            JSON.stringify(provider.config),
            provider.credentialsSealed,
            JSON.stringify(provider.credentialKeys),
            time,
            time,
          ),
        { name: `A provider named "${provider.name}" already exists in zone ${provider.zoneId}; choose another name.` },
      );
      return provider;
    });
  }

  getProvider(zoneId: string, ref: string): Promise<Provider | undefined> {
    return this.#db.run(() => {
      const row = this.#db.byRef<ProviderRow>('providers', zoneId, ref);
      return row && toProvider(row);
    });
  }

  listProviders(zoneId: string, options: ListOptions = {}): Promise<Page<Provider>> {
    return this.#db.run(() =>
      this.#db.list<ProviderRow, Provider>('SELECT * FROM providers WHERE zone_id = ? AND', [zoneId], options, toProvider),
    );
  }

  updateProvider(id: string, patch: ProviderPatch): Promise<Provider> {
    return this.#db.write(() => {
      const row = this.#db.sql('SELECT * FROM providers WHERE id = ?').get(id) as ProviderRow | undefined;
      if (row === undefined) throw notFound(`Provider ${id}`);
      const current = toProvider(row);
      const provider: Provider = {
        ...current,
        name: patch.name === undefined ? current.name : checkName(patch.name, 'provider', 'provider'),
        config: patch.config === undefined ? current.config : checkObject(patch.config, 'config'),
        credentialsSealed:
          patch.credentialsSealed === undefined ? current.credentialsSealed : checkSealed(patch.credentialsSealed, 'credentialsSealed'),
        credentialKeys:
          patch.credentialKeys === undefined ? current.credentialKeys : checkStrings(patch.credentialKeys, 'credentialKeys'),
        updatedAt: now(),
      };
      this.#db.unique(
        () =>
          this.#db.sql(
            `UPDATE providers SET name = ?, config = ?, credentials_sealed = ?, credential_keys = ?, updated_at = ?
             WHERE id = ?`,
          ).run(
            provider.name,
            JSON.stringify(provider.config),
            provider.credentialsSealed,
            JSON.stringify(provider.credentialKeys),
            provider.updatedAt,
            id,
          ),
        { name: `A provider named "${provider.name}" already exists in zone ${provider.zoneId}; choose another name.` },
      );
      return provider;
    });
  }

  deleteProvider(id: string): Promise<void> {
    return this.#db.write(() => {
      const users = this.#db.sql('SELECT id FROM resources WHERE provider_id = ? ORDER BY id LIMIT 6')
        .pluck()
        .all(id) as string[];
      if (users.length > 0) {
        throw new CaracalError(
          'CRC_CONFLICT',
          `Provider ${id} is still used by ${users.slice(0, 5).join(', ')}${users.length > 5 ? ', …' : ''}.`,
          { details: { field: 'providerId', resources: users }, hint: 'Point those resources at another provider (or none) first.' },
        );
      }
      this.#db.remove('DELETE FROM providers WHERE id = ?', [id], `Provider ${id}`);
    });
  }

  #insertZone(zone: Zone): void {
    this.#db.unique(
      () =>
        this.#db.sql(
          `INSERT INTO zones (id, name, kind, description, allowed_private_hosts, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          zone.id,
          zone.name,
          zone.kind,
          zone.description,
          JSON.stringify(zone.allowedPrivateHosts),
          zone.createdAt,
          zone.updatedAt,
        ),
      { name: `A zone named "${zone.name}" already exists; choose another name.` },
    );
  }

  #checkProviderRef(zoneId: string, providerId: string | null): string | null {
    if (providerId === null) return null;
    const found = this.#db.sql('SELECT 1 FROM providers WHERE zone_id = ? AND id = ?').get(zoneId, providerId);
    if (found === undefined) {
      throw new CaracalError('CRC_VALIDATION', `Provider ${providerId} does not exist in zone ${zoneId}.`, {
        details: { field: 'providerId' },
      });
    }
    return providerId;
  }
}
