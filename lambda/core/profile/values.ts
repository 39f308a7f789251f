/**
 * Reading cell values straight from UTF-8 bytes, without making strings: the profiler's hot path.
 * Every function takes (bytes, start, end) and looks only at that slice.
 */

const POW10: number[] = [];
for (let i = 0; i <= 22; i++) POW10.push(10 ** i);

/**
 * Side results of the last `readNumber` / `readDate` call, kept in one object so the hot path
 * returns a plain number and allocates nothing: `integer` is whether the number had neither fraction
 * nor exponent; `hadTime` is whether the date had a time part (a timestamp).
 */
export const parsed = { integer: false, hadTime: false };

/** The value read by the last successful `readNumber` / `readDate`: a typed array, so never boxed. */
export const parsedValue = new Float64Array(1);

const decoder = new TextDecoder();

/**
 * Whether a field is a number, the value left in `parsedValue[0]` so that no number is boxed.
 * Accepts `[+-]digits[.digits][e[+-]digits]` (and `.5`, `5.`). Up to 15 significant digits and no
 * exponent it computes mantissa / 10^k, which is correctly rounded because both operands are exact
 * doubles (Clinger's fast path); anything else goes to `Number()` on the decoded text, which is rare
 * in real data. The integer and fraction parts (up to 9 digits each) are read in int32 arithmetic;
 * longer ones, and exponents, take the general path.
 */
export function readNumber(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  const c = b[i]!;
  let neg = false;
  if (c === 45) {
    neg = true;
    i++;
  } else if (c === 43) {
    i++;
  }
  const intStart = i;
  let ip = 0;
  while (i < e) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) break;
    if (i - intStart === 9) return slowNumber(b, s, intStart, e, neg);
    ip = ip * 10 + d;
    i++;
  }
  const intDigits = i - intStart;
  let fp = 0;
  let frac = 0;
  let integer = true;
  if (i < e && b[i] === 46) {
    integer = false;
    i++;
    const fracStart = i;
    while (i < e) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      if (i - fracStart === 9) return slowNumber(b, s, intStart, e, neg);
      fp = fp * 10 + d;
      i++;
    }
    frac = i - fracStart;
  }
  if (i < e || intDigits + frac > 15) return slowNumber(b, s, intStart, e, neg);
  if (intDigits + frac === 0) return false;
  parsed.integer = integer;
  const v = frac === 0 ? ip : (ip * POW10[frac]! + fp) / POW10[frac]!;
  parsedValue[0] = neg ? -v : v;
  return true;
}

/** The general path of `readNumber`, from `i`, just past the sign it read: any digit count, exponents. */
function slowNumber(b: Uint8Array, s: number, i: number, e: number, neg: boolean): boolean {
  let c: number;
  let mant = 0;
  let digits = 0;
  let frac = 0;
  while (i < e) {
    c = b[i]!;
    if (c < 48 || c > 57) break;
    mant = mant * 10 + (c - 48);
    digits++;
    i++;
  }
  let integer = true;
  if (i < e && b[i] === 46) {
    integer = false;
    i++;
    while (i < e) {
      c = b[i]!;
      if (c < 48 || c > 57) break;
      mant = mant * 10 + (c - 48);
      digits++;
      frac++;
      i++;
    }
  }
  if (digits === 0) return false;
  if (i < e) {
    c = b[i]!;
    if (c !== 101 && c !== 69) return false;
    // Exponent: check the shape, then let Number() do the rounding.
    let j = i + 1;
    if (j < e && (b[j] === 43 || b[j] === 45)) j++;
    if (j === e) return false;
    for (; j < e; j++) {
      c = b[j]!;
      if (c < 48 || c > 57) return false;
    }
    parsed.integer = false;
    parsedValue[0] = Number(decoder.decode(b.subarray(s, e)));
    return true;
  }
  parsed.integer = integer;
  if (digits > 15) {
    parsedValue[0] = Number(decoder.decode(b.subarray(s, e)));
    return true;
  }
  const v = frac === 0 ? mant : mant / POW10[frac]!;
  parsedValue[0] = neg ? -v : v;
  return true;
}

const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Years whose months' first days `monthStart` keeps, computed once each on first use. */
const TABLE_FIRST_YEAR = 1900;
const TABLE_YEARS = 256;
const MONTH_STARTS = new Float64Array(TABLE_YEARS * 12).fill(NaN);

/**
 * `daysFromCivil(y, m, 1)`, from a table for 1900-2155 (most dates in data): a date then costs an
 * addition instead of the four divisions of days_from_civil.
 */
function monthStart(y: number, m: number): number {
  const at = (y - TABLE_FIRST_YEAR) * 12 + m - 1;
  if (at < 0 || at >= TABLE_YEARS * 12) return daysFromCivil(y, m, 1);
  let days = MONTH_STARTS[at]!;
  if (days !== days) days = MONTH_STARTS[at] = daysFromCivil(y, m, 1); // NaN: not computed yet
  return days;
}

function digit(b: Uint8Array, i: number): number {
  const c = b[i]! - 48;
  return c >= 0 && c <= 9 ? c : -1000;
}
function two(b: Uint8Array, i: number): number {
  return digit(b, i) * 10 + digit(b, i + 1);
}


/**
 * Epoch milliseconds of an ISO 8601 date `YYYY-MM-DD` or timestamp
 * `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|+HH:MM|+HHMM|+HH]`, or NaN when the text is not one.
 */
export function parseDate(b: Uint8Array, s: number, e: number): number {
  return readDate(b, s, e) ? parsedValue[0]! : NaN;
}

/** `parseDate` for the hot path: whether the text is a date, its epoch milliseconds in `parsedValue[0]`. */
export function readDate(b: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  if (len < 10 || b[s + 4] !== 45 || b[s + 7] !== 45) return false;
  const y = digit(b, s) * 1000 + digit(b, s + 1) * 100 + two(b, s + 2);
  const m = two(b, s + 5);
  const d = two(b, s + 8);
  if (y < 0 || m < 1 || m > 12 || d < 1 || d > DAYS_IN_MONTH[m]!) return false;
  if (m === 2 && d === 29 && (y % 4 !== 0 || (y % 100 === 0 && y % 400 !== 0))) return false;
  const day = (monthStart(y, m) + d - 1) * 86400000;
  if (len === 10) {
    parsed.hadTime = false;
    parsedValue[0] = day;
    return true;
  }
  const sep = b[s + 10];
  if ((sep !== 84 && sep !== 32 && sep !== 116) || len < 16 || b[s + 13] !== 58) return false;
  const hh = two(b, s + 11);
  const mm = two(b, s + 14);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return false;
  let ms = hh * 3600000 + mm * 60000;
  let i = s + 16;
  if (i < e && b[i] === 58) {
    const ss = two(b, i + 1);
    if (i + 3 > e || ss < 0 || ss > 60) return false;
    ms += ss * 1000;
    i += 3;
    if (i < e && (b[i] === 46 || b[i] === 44)) {
      i++;
      let scale = 100;
      const fracStart = i;
      while (i < e && digit(b, i) >= 0) {
        ms += digit(b, i) * scale;
        scale /= 10;
        i++;
      }
      if (i === fracStart) return false;
    }
  }
  if (i < e) {
    const z = b[i];
    if (z === 90 && i + 1 === e) {
      i++;
    } else if (z === 43 || z === 45) {
      const rest = e - i - 1;
      const oh = two(b, i + 1);
      let om = 0;
      if (rest === 5 && b[i + 3] === 58) om = two(b, i + 4);
      else if (rest === 4) om = two(b, i + 3);
      else if (rest !== 2) return false;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return false;
      const off = oh * 3600000 + om * 60000;
      ms += z === 43 ? -off : off;
      i = e;
    } else {
      return false;
    }
  }
  parsed.hadTime = true;
  parsedValue[0] = day + ms;
  return true;
}

/** 1 for true, 0 for false, -1 for anything else (`true`/`false` in any case, as pandas reads them). */
export function parseBoolean(b: Uint8Array, s: number, e: number): number {
  const len = e - s;
  if (len === 4) {
    return (b[s]! | 32) === 116 && (b[s + 1]! | 32) === 114 && (b[s + 2]! | 32) === 117 && (b[s + 3]! | 32) === 101 ? 1 : -1;
  }
  if (len === 5) {
    return (b[s]! | 32) === 102 &&
      (b[s + 1]! | 32) === 97 &&
      (b[s + 2]! | 32) === 108 &&
      (b[s + 3]! | 32) === 115 &&
      (b[s + 4]! | 32) === 101
      ? 0
      : -1;
  }
  return -1;
}

/**
 * Whether a field is a missing value: empty, or one of the spellings pandas reads as NaN that people
 * actually use (NA, N/A, n/a, null, NULL, None, NaN, nan, -, #N/A, and case variants).
 */
export function isNullToken(b: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  if (len === 0) return true;
  if (len > 4) return false;
  const c0 = b[s]! | 32;
  if (len === 1) return b[s] === 45;
  if (len === 2) return c0 === 110 && (b[s + 1]! | 32) === 97; // na
  if (len === 3) {
    const c1 = b[s + 1]!;
    const c2 = b[s + 2]! | 32;
    if (c0 === 110 && c1 === 47 && c2 === 97) return true; // n/a
    return c0 === 110 && (c1 | 32) === 97 && c2 === 110; // nan
  }
  // len 4: null, none, #n/a
  const c1 = b[s + 1]! | 32;
  const c2 = b[s + 2]! | 32;
  const c3 = b[s + 3]! | 32;
  if (c0 === 110 && c1 === 117 && c2 === 108 && c3 === 108) return true;
  if (c0 === 110 && c1 === 111 && c2 === 110 && c3 === 101) return true;
  return b[s] === 35 && c1 === 110 && b[s + 2] === 47 && c3 === 97;
}

/**
 * Copies src[s, e) to dst at `at`. Short slices (most field values) are copied by a loop: a
 * `Buffer.copy` call costs more than copying a few dozen bytes.
 */
export function copyBytes(src: Uint8Array, s: number, e: number, dst: Uint8Array, at: number): void {
  if (e - s > 32) {
    dst.set(src.subarray(s, e), at);
    return;
  }
  for (let i = s; i < e; i++) dst[at++] = src[i]!;
}

/** Byte-wise comparison, which for UTF-8 is code point order. */
export function compareBytes(a: Uint8Array, as: number, ae: number, b: Uint8Array, bs: number, be: number): number {
  const n = Math.min(ae - as, be - bs);
  for (let i = 0; i < n; i++) {
    const d = a[as + i]! - b[bs + i]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/** Whether buf[s, e) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
export function isValidUtf8(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + need >= e) return false;
    for (let k = 1; k <= need; k++) {
      const cc = b[i + k]!;
      if ((cc & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
