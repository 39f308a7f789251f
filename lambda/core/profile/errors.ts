import { BadRequestError } from '../../shared/errors';

/** Rows were asked of an object that is not tabular (binary, plain text). */
export class UnsupportedFormatError extends BadRequestError {
  constructor(format: string) {
    super('UnsupportedFormat', `Rows can only be read from CSV, TSV, delimited text or JSON Lines, not ${format}`);
  }
}

/** A requested column is not in the object's header. */
export class UnknownColumnError extends BadRequestError {
  constructor(column: string) {
    super('UnknownColumn', `No column named ${JSON.stringify(column)}`);
  }
}

/** A JSON Lines row that is not a JSON object (or not JSON at all). */
export class InvalidRowError extends BadRequestError {
  constructor(line: number) {
    super('InvalidRow', `Line ${line} of the object is not a JSON object`);
  }
}
