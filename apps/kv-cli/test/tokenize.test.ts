import { describe, expect, it } from 'vitest';
import { tokenFromArg, tokenize } from '../src/tokenize.js';

/** The tokens of a line as text (invalid UTF-8 would show as U+FFFD; these are all text). */
const words = (line: string) => tokenize(line).map((t) => Buffer.from(t.bytes).toString('utf8'));
const hexOf = (line: string) => tokenize(line).map((t) => Buffer.from(t.bytes).toString('hex'));

describe('tokenize', () => {
  it('splits on runs of whitespace', () => {
    expect(words('  put   a\tb ')).toEqual(['put', 'a', 'b']);
  });

  it('double quotes keep spaces and take escapes', () => {
    expect(words('put "my key" "a\\tb\\n\\"q\\" \\\\"')).toEqual(['put', 'my key', 'a\tb\n"q" \\']);
  });

  it("single quotes are literal except \\' and \\\\", () => {
    expect(words("put 'a \\n b' 'it\\'s' 'c\\\\d'")).toEqual(['put', 'a \\n b', "it's", 'c\\d']);
  });

  it('a backslash escapes a space outside quotes', () => {
    expect(words('put a\\ b c')).toEqual(['put', 'a b', 'c']);
  });

  it('quoted and bare parts next to each other are one token', () => {
    expect(words(`a"b c"'d e'f`)).toEqual(['ab cd ef']);
  });

  it('an empty pair of quotes is an empty token', () => {
    expect(tokenize('put "" x').map((t) => t.bytes.length)).toEqual([3, 0, 1]);
  });

  it('0x... outside quotes is a hex literal, inside quotes it is text', () => {
    expect(hexOf('0xDEADbeef "0x41"')).toEqual(['deadbeef', '30783431']);
  });

  it("x'...' is a hex literal and may contain spaces", () => {
    expect(hexOf("x'00 ff 10' X'41'")).toEqual(['00ff10', '41']);
  });

  it('\\xHH gives a raw byte, even one that is not UTF-8', () => {
    expect(hexOf('"a\\xff\\x00"')).toEqual(['61ff00']);
  });

  it('only plain words are bare (eligible for command names and --flags)', () => {
    expect(tokenize('--limit "--limit" 0x41').map((t) => t.bare)).toEqual(['--limit', undefined, undefined]);
  });

  it('a line starting with # is a comment', () => {
    expect(tokenize('  # put a b')).toEqual([]);
  });

  it.each([
    ['put "a', 'a double quote is not closed; end the text with "'],
    ["put 'a", "a single quote is not closed; end the text with '"],
    ['put a\\', 'the line ends with a lone backslash; write \\\\ for a backslash'],
    ['put a\\q', 'unknown escape \\q; use \\\\ \\" \\\' \\n \\t \\r \\0 or \\xHH'],
    ['"\\x4"', '\\x needs two hex digits (e.g. \\x00), got "\\x4""'],
    ['0x123', '0x123 has an odd number of hex digits; write two per byte, e.g. 0x0123'],
    ["x'zz'", "x'zz' is not a hex literal (only 0-9 and a-f); quote it (\"x'zz'\") to mean the text"],
  ])('%s is refused: %s', (line, message) => {
    expect(() => tokenize(line)).toThrow(message);
  });
});

describe('tokenFromArg (one-shot arguments, already split by the shell)', () => {
  it('keeps spaces and quotes as typed', () => {
    expect(Buffer.from(tokenFromArg('"a b"').bytes).toString()).toBe('"a b"');
  });

  it("reads a whole 0x... or x'...' argument as hex", () => {
    expect(Buffer.from(tokenFromArg('0x00ff').bytes).toString('hex')).toBe('00ff');
    expect(Buffer.from(tokenFromArg("x'00 ff'").bytes).toString('hex')).toBe('00ff');
  });
});
