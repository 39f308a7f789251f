import type { Node } from 'constructs';
import type { FileServiceStackProps } from './file-service-stack';

/**
 * Stack settings from CDK context (`cdk synth -c allowedOrigins=https://app.example.com`):
 * - allowedOrigins: comma-separated string or array of origins; default none (no CORS, never `*`)
 * - autoDeleteObjects: `true` for dev stacks (buckets, users and logs go with the stack)
 * - throttleRateLimit / throttleBurstLimit: API stage throttling (default 50 / 100)
 * - sourceMaps: `true` sets NODE_OPTIONS=--enable-source-maps on every function, for stack traces in
 *   the TypeScript sources while debugging; default off, since it slows every cold start (the .map
 *   files are shipped either way)
 * - waf: `false` leaves the API without its AWS WAF web ACL (billed per ACL, rule and request); default on
 * - processorReservedConcurrency: the processor's reserved concurrency (default 5, the queue's
 *   maxConcurrency; at least that), or `none` (accounts whose concurrency quota is still 10)
 * - apiGatewayCloudWatchRole: `true` lets the stack set the account's API Gateway logging role
 *   (account-wide; it replaces any role already set); default off
 * - alarmEmail: an address subscribed by email to the topic every alarm notifies; default none
 * - fanOutBytes: objects of at least this many bytes are profiled by the fan-out state machine
 *   (plan -> Distributed Map of byte ranges -> merge); default 2 GiB
 * - threatProtection: `true` puts the user pool on the Plus feature plan (billed per monthly active
 *   user) with threat protection enforced; default off
 */
export function stackPropsFromContext(node: Node): FileServiceStackProps {
  return {
    allowedOrigins: origins(node.tryGetContext('allowedOrigins')),
    autoDeleteObjects: flag(node.tryGetContext('autoDeleteObjects')),
    sourceMaps: flag(node.tryGetContext('sourceMaps')),
    throttling: {
      rateLimit: positive(node.tryGetContext('throttleRateLimit'), 50, 'throttleRateLimit'),
      burstLimit: positive(node.tryGetContext('throttleBurstLimit'), 100, 'throttleBurstLimit'),
    },
    threatProtection: flag(node.tryGetContext('threatProtection')),
    waf: !isFalse(node.tryGetContext('waf')),
    apiGatewayCloudWatchRole: flag(node.tryGetContext('apiGatewayCloudWatchRole')),
    ...optional('processorReservedConcurrency', reservedConcurrency(node.tryGetContext('processorReservedConcurrency'))),
    ...optional('alarmEmail', email(node.tryGetContext('alarmEmail'))),
    ...optional('fanOutBytes', optionalPositive(node.tryGetContext('fanOutBytes'), 'fanOutBytes')),
  };
}

export function origins(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',');
  const result = list.map((o) => o.trim()).filter(Boolean);
  for (const origin of result) {
    // A wildcard would let any site drive a signed-in user's browser against the API.
    if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Error(`allowedOrigins: "${origin}" is not an origin like https://app.example.com (no "*", no path)`);
    }
  }
  return result;
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function email(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const address = String(value).trim();
  // SNS checks the address itself; this catches a flag given the wrong value before a deploy does.
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) throw new Error(`alarmEmail: "${address}" is not an email address`);
  return address;
}

function reservedConcurrency(value: unknown): number | null | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === 'none') return null;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`processorReservedConcurrency must be an integer or "none", got "${String(value)}"`);
  return n;
}

function isFalse(value: unknown): boolean {
  return value === false || value === 'false';
}

function flag(value: unknown): boolean {
  return value === true || value === 'true';
}

function positive(value: unknown, fallback: number, name: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${String(value)}"`);
  return n;
}

function optionalPositive(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return positive(value, 0, name);
}
