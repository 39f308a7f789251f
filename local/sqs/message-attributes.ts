/**
 * Message attributes as SQS takes them (SendMessage's `MessageAttributes`), checks them and
 * digests them: `MD5OfMessageAttributes` is the documented digest over the attributes sorted by
 * name, each as length-prefixed name, data type, a transport byte (1 for String and Number, 2 for
 * Binary) and length-prefixed value, so a client that checks it (the Java SDK does) accepts ours.
 */
import { createHash } from 'node:crypto';
import { invalidParameterValue } from './errors';

/** One attribute as the JSON protocol carries it; binary values are base64. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export type MessageAttributes = Record<string, MessageAttributeValue>;

const MAX_ATTRIBUTES = 10;
const NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;
const RESERVED_PREFIX = /^(aws\.|amazon\.)/i;

/** Checks the attributes of one message; returns them with only the fields SQS keeps, and their size in bytes. */
export function parseMessageAttributes(input: unknown): { attributes: MessageAttributes; bytes: number } | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input !== 'object' || Array.isArray(input)) throw invalidParameterValue('MessageAttributes must be a map of attribute names to values.');
  const entries = Object.entries(input as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_ATTRIBUTES) {
    throw invalidParameterValue(`Number of message attributes [${entries.length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
  }
  const attributes: MessageAttributes = {};
  let bytes = 0;
  for (const [name, raw] of entries) {
    if (!NAME.test(name) || RESERVED_PREFIX.test(name)) throw invalidParameterValue(`Message attribute name '${name}' is invalid.`);
    const value = (raw ?? {}) as Record<string, unknown>;
    const dataType = value.DataType;
    if (typeof dataType !== 'string' || !/^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$/.test(dataType)) {
      throw invalidParameterValue(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
    }
    if (value.StringListValues !== undefined || value.BinaryListValues !== undefined) {
      throw invalidParameterValue(`Message attribute list values in SendMessage operation are not supported.`);
    }
    if (dataType.startsWith('Binary')) {
      if (typeof value.BinaryValue !== 'string' || value.BinaryValue === '') {
        throw invalidParameterValue(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      attributes[name] = { DataType: dataType, BinaryValue: value.BinaryValue };
      bytes += Buffer.from(value.BinaryValue, 'base64').length;
    } else {
      if (typeof value.StringValue !== 'string' || value.StringValue === '') {
        throw invalidParameterValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
      }
      if (dataType.startsWith('Number') && !Number.isFinite(Number(value.StringValue))) {
        throw invalidParameterValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      attributes[name] = { DataType: dataType, StringValue: value.StringValue };
      bytes += Buffer.byteLength(value.StringValue);
    }
    bytes += Buffer.byteLength(name) + Buffer.byteLength(dataType);
  }
  return { attributes, bytes };
}

/** MD5OfMessageAttributes, as SQS computes it. */
export function md5OfMessageAttributes(attributes: MessageAttributes): string {
  const hash = createHash('md5');
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length);
    hash.update(bytes);
  };
  // Sorted by name as UTF-8 bytes, which is what SQS sorts by.
  for (const name of Object.keys(attributes).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
    const value = attributes[name]!;
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      hash.update(Buffer.from([1]));
      field(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}
