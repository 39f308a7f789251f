/**
 * How deep a JSON text nests, found by a scan of its bytes before it is parsed: JSON.parse itself
 * does not recurse, but everything that walks the parsed value does (JSON.stringify, the column
 * accumulator), and a few kilobytes of brackets would overflow its stack. One pass, no allocation.
 */

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;
const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

/** True when buf[s, e) opens more than `max` objects or arrays inside one another. */
export function nestsDeeperThan(buf: Uint8Array, s: number, e: number, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}
