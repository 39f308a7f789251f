/**
 * The errors the engine throws on purpose. The engine knows nothing of HTTP (the CLI uses it too):
 * each error has a stable `code`, and the limit it hit when there is one; the read and process cores
 * map them to a 400 or a `failed` profile by class (`instanceof`), never by name.
 */
export abstract class EngineError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    /** The limit the input went past (bytes, levels, columns), when the error is about one. */
    readonly limit?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The object's content cannot be read as asked: reading it again would fail the same way. The
 * processor writes a `failed` profile for it rather than retrying; `?rows` answers 400.
 */
export abstract class ContentError extends EngineError {}

/** Rows were asked of an object that is not tabular (binary, plain text). */
export class UnsupportedFormatError extends ContentError {
  readonly code = 'UnsupportedFormat';
  constructor(format: string) {
    super(`Rows can only be read from CSV, TSV, delimited text or JSON Lines, not ${format}`);
  }
}

/** A JSON Lines row that is not a JSON object (or not JSON at all). */
export class InvalidRowError extends ContentError {
  readonly code = 'InvalidRow';
  constructor(line: number) {
    super(`Line ${line} of the object is not a JSON object`);
  }
}

/** A JSON Lines line longer than the line cap. */
export class LineTooLongError extends ContentError {
  readonly code = 'LineTooLong';
  constructor(line: number, limit: number) {
    super(`Line ${line} of the object is longer than the limit of ${limit} bytes`, limit);
  }
}

/** A delimited field longer than the field cap, in a row and column asked for. */
export class FieldTooLongError extends ContentError {
  readonly code = 'FieldTooLong';
  constructor(line: number, limit: number) {
    super(`The row on line ${line} of the object has a field longer than the limit of ${limit} bytes`, limit);
  }
}

/** A JSON Lines row nested deeper than the depth limit. */
export class NestingTooDeepError extends ContentError {
  readonly code = 'NestingTooDeep';
  constructor(line: number, limit: number) {
    super(`Line ${line} of the object is nested deeper than the limit of ${limit} levels`, limit);
  }
}

/** A header with more columns than the engine names. */
export class TooManyColumnsError extends ContentError {
  readonly code = 'TooManyColumns';
  constructor(limit: number) {
    super(`The object has more than ${limit} columns, the most rows can be read from`, limit);
  }
}

/** A gzip stream that is corrupt, or ends before its end (truncated). */
export class CorruptGzipError extends ContentError {
  readonly code = 'CorruptGzip';
  constructor(detail: string) {
    super(`The object is not a valid gzip stream (${detail}): corrupt or truncated`);
  }
}

/** The rows asked for lie past what a gzip object may expand to (see `truncated` in source.ts). */
export class DecompressionLimitError extends ContentError {
  readonly code = 'DecompressionLimit';
  constructor(detail: string, limit: number) {
    super(`The rows asked for lie past the decompression limit: ${detail}`, limit);
  }
}

/** One row is bigger than a whole page may be (`limit`, the response's byte budget). */
export class RowTooLargeError extends ContentError {
  readonly code = 'ResponseTooLarge';
  constructor(row: number, limit: number) {
    super(`Row ${row} alone makes a response over the limit of ${limit} bytes; ask for fewer columns (columns=a,b)`, limit);
  }
}

/** A requested column is not in the object's header: the request's fault, not the content's. */
export class UnknownColumnError extends EngineError {
  readonly code = 'UnknownColumn';
  constructor(column: string) {
    super(`No column named ${JSON.stringify(column.length > 200 ? `${column.slice(0, 200)}…` : column)}`);
  }
}
