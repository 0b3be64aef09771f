import { controlUrl, gatewayUrl, type Settings } from '../config/settings.js';

/** A service of the embedded stack, with where it listens and how it is probed. */
export interface StackService {
  readonly name: 'control' | 'gateway';
  readonly host: string;
  readonly port: number;
  /** Base URL clients use. */
  readonly url: string;
  readonly healthPath: string;
  readonly readyPath: string;
}

/**
 * The services `caracal up` starts, in start order (DESIGN.md §2). The control plane goes first:
 * it writes the issuer the Gateway needs before the Gateway reports ready.
 */
export function stackServices(settings: Settings): readonly StackService[] {
  return [
    { name: 'control', host: settings.control.host, port: settings.control.port, url: controlUrl(settings), healthPath: '/healthz', readyPath: '/readyz' },
    { name: 'gateway', host: settings.gateway.host, port: settings.gateway.port, url: gatewayUrl(settings), healthPath: '/_caracal/healthz', readyPath: '/_caracal/readyz' },
  ];
}
