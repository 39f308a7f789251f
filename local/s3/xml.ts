/**
 * S3's XML: errors (`<Error><Code>…`), response documents built from plain values, and the few
 * request bodies the server reads (CompleteMultipartUpload, Delete, CORSConfiguration).
 */
import { XMLParser } from 'fast-xml-parser';

export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** An error S3 would answer, with its status and code (S3's list of error codes). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements of the error document (`Key`, `BucketName`, `ActualObjectSize`…). */
    readonly details: Readonly<Record<string, string | number>> = {},
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

// XML 1.0 cannot carry most C0 controls even as references; S3 escapes them the same way.
export const xmlEscape = (s: string): string =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[<>&'"\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#${c.charCodeAt(0)};`);

export type XmlValue = string | number | boolean | undefined | XmlValue[] | { [name: string]: XmlValue };

/** `{Key: 'a', Size: 3}` -> `<Key>a</Key><Size>3</Size>`; arrays repeat the element; undefined is left out. */
export function toXml(value: Record<string, XmlValue>): string {
  let out = '';
  for (const [name, v] of Object.entries(value)) {
    for (const item of Array.isArray(v) ? v : [v]) {
      if (item === undefined) continue;
      out += typeof item === 'object' && !Array.isArray(item) ? `<${name}>${toXml(item)}</${name}>` : `<${name}>${xmlEscape(String(item))}</${name}>`;
    }
  }
  return out;
}

export function xmlDocument(root: string, value: Record<string, XmlValue>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${toXml(value)}</${root}>`;
}

export function errorDocument(err: S3Error, resource: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${toXml({ Code: err.code, Message: err.message, ...err.details, Resource: resource, RequestId: requestId })}</Error>`;
}

const REPEATED = new Set(['Part', 'Object', 'CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);
const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, isArray: (name) => REPEATED.has(name), processEntities: true });

/** A request body's root element as plain objects and strings; 400 MalformedXML when it is not XML. */
export function parseXmlBody(body: Buffer, root: string): Record<string, unknown> {
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw malformed();
  }
  const value = doc[root];
  if (value === undefined) throw malformed();
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

const malformed = () =>
  new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');

/** A repeated child element as an array of objects (absent: empty). */
export function children(node: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const value = node[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {}));
}

export function text(node: Record<string, unknown>, name: string): string | undefined {
  const value = node[name];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

export function texts(node: Record<string, unknown>, name: string): string[] {
  const value = node[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
