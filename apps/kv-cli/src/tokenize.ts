/**
 * Splits a command line into tokens, the way kv-cli reads keys and values:
 *
 *   put "my key" 'it\'s'    whitespace separates tokens; quotes group them
 *   put a\ b "x\ty"          backslash escapes: \\ \" \' \n \t \r \0 \xHH and \<space>
 *   put k 0xdeadbeef         an unquoted 0x... word is a hex byte literal
 *   put k x'de ad be ef'     so is x'...' (spaces inside are ignored)
 *   # comment                a line starting with # is ignored
 *
 * Single quotes are literal except for \' and \\. Quoted and unquoted parts next to each
 * other form one token (a"b c"d is `ab cd`). \xHH gives a raw byte, so a quoted token can hold
 * bytes that are not UTF-8.
 */
import { CliError } from './errors.js';

export interface Token {
  /** The bytes the token stands for, after quotes, escapes and hex literals. */
  readonly bytes: Uint8Array;
  /** The token as typed when it was a plain word (no quotes or escapes): command names and --flags. */
  readonly bare: string | undefined;
}

const encoder = new TextEncoder();
const lossy = new TextDecoder('utf-8');

/** A token's bytes as text, for messages (invalid UTF-8 shows as U+FFFD). */
export function tokenText(t: Token): string {
  return t.bare ?? lossy.decode(t.bytes);
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  '"': '"',
  "'": "'",
  ' ': ' ',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
};

/** Parses a hex literal's digits (the part after 0x, or inside x'...'); `shown` is for messages. */
function hexBytes(digits: string, shown: string): Uint8Array {
  const clean = digits.replace(/[\s_]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean)) {
    throw new CliError(`${shown} is not a hex literal (only 0-9 and a-f); quote it ("${shown}") to mean the text`);
  }
  if (clean.length % 2 !== 0) {
    throw new CliError(`${shown} has an odd number of hex digits; write two per byte, e.g. 0x0${clean}`);
  }
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** Collects a token's pieces: text is UTF-8 encoded, \xHH escapes add raw bytes. */
class TokenBuilder {
  private readonly parts: number[] = [];
  /** Raw source of the token when it has no quotes or escapes. */
  plain: string | undefined = '';
  /** Set when the token is exactly `x` followed by one single-quoted part. */
  hexQuoted: string | undefined;
  started = false;

  addText(s: string): void {
    for (const b of encoder.encode(s)) this.parts.push(b);
    this.started = true;
  }

  addByte(b: number): void {
    this.parts.push(b);
    this.started = true;
  }

  finish(): Token {
    if (this.hexQuoted !== undefined)
      return { bytes: hexBytes(this.hexQuoted, `x'${this.hexQuoted}'`), bare: undefined };
    if (this.plain !== undefined && /^0x/i.test(this.plain)) {
      return { bytes: hexBytes(this.plain.slice(2), this.plain), bare: undefined };
    }
    return { bytes: new Uint8Array(this.parts), bare: this.plain };
  }
}

/** Reads the escape at `line[i]` (just after a backslash) into `tok`; returns the next index. */
function readEscape(line: string, i: number, tok: TokenBuilder): number {
  const c = line[i];
  if (c === undefined) throw new CliError('the line ends with a lone backslash; write \\\\ for a backslash');
  if (c === 'x') {
    const hex = line.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new CliError(`\\x needs two hex digits (e.g. \\x00), got "\\x${hex}"`);
    tok.addByte(Number.parseInt(hex, 16));
    return i + 3;
  }
  const simple = SIMPLE_ESCAPES[c];
  if (simple === undefined) {
    throw new CliError(`unknown escape \\${c}; use \\\\ \\" \\' \\n \\t \\r \\0 or \\xHH`);
  }
  tok.addText(simple);
  return i + 1;
}

/** Tokenizes one line. Throws CliError (with what to fix) on an unclosed quote or bad escape. */
export function tokenize(line: string): Token[] {
  if (/^\s*#/.test(line)) return [];
  const tokens: Token[] = [];
  let tok = new TokenBuilder();
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (/\s/.test(c)) {
      if (tok.started) tokens.push(tok.finish());
      tok = new TokenBuilder();
      i++;
    } else if (c === '"') {
      i = readDoubleQuoted(line, i + 1, tok);
    } else if (c === "'") {
      const start = tok.plain;
      const end = readSingleQuoted(line, i + 1, tok);
      const next = line[end];
      if ((start === 'x' || start === 'X') && (next === undefined || /\s/.test(next))) {
        tok.hexQuoted = line.slice(i + 1, end - 1);
      }
      tok.plain = undefined;
      i = end;
    } else if (c === '\\') {
      tok.plain = undefined;
      i = readEscape(line, i + 1, tok);
    } else {
      if (tok.plain !== undefined) tok.plain += c;
      tok.addText(c);
      i++;
    }
  }
  if (tok.started) tokens.push(tok.finish());
  return tokens;
}

function readDoubleQuoted(line: string, i: number, tok: TokenBuilder): number {
  tok.plain = undefined;
  tok.started = true;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === '"') return i + 1;
    if (c === '\\') {
      i = readEscape(line, i + 1, tok);
    } else {
      tok.addText(c);
      i++;
    }
  }
  throw new CliError('a double quote is not closed; end the text with "');
}

function readSingleQuoted(line: string, i: number, tok: TokenBuilder): number {
  tok.started = true;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === "'") return i + 1;
    if (c === '\\' && (line[i + 1] === "'" || line[i + 1] === '\\')) {
      tok.addText(line[i + 1] as string);
      i += 2;
    } else {
      tok.addText(c);
      i++;
    }
  }
  throw new CliError("a single quote is not closed; end the text with '");
}

/**
 * One command-line argument (already split and unquoted by the shell) as a token: a whole
 * argument of the form 0x... or x'...' is a hex literal, anything else is its UTF-8 text.
 */
export function tokenFromArg(arg: string): Token {
  const quotedHex = /^[xX]'(.*)'$/s.exec(arg);
  if (quotedHex !== null) return { bytes: hexBytes(quotedHex[1] as string, arg), bare: undefined };
  if (/^0x/i.test(arg)) return { bytes: hexBytes(arg.slice(2), arg), bare: undefined };
  return { bytes: encoder.encode(arg), bare: arg };
}
