// PromQL lexer, following the state machine of Prometheus 2.42 promql/parser/lex.go so that the
// same inputs are accepted and rejected at the same places. Positions are JS string indexes
// (UTF-16 code units); parse errors convert them to the byte columns Prometheus prints.

export type ItemType =
  | "EOF" | "ERROR" | "COMMENT" | "IDENTIFIER" | "METRIC_IDENTIFIER" | "NUMBER" | "STRING" | "DURATION"
  | "(" | ")" | "{" | "}" | "[" | "]" | "," | "=" | ":" | "@"
  // operators
  | "+" | "-" | "*" | "/" | "%" | "^" | "==" | "!=" | "<=" | "<" | ">=" | ">" | "=~" | "!~"
  | "and" | "or" | "unless" | "atan2"
  // aggregators
  | "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" | "topk" | "bottomk"
  | "count_values" | "quantile"
  // keywords
  | "offset" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" | "bool"
  // @ preprocessors
  | "start" | "end";

export interface Item {
  type: ItemType;
  pos: number;
  /** Source text of the token (for ERROR: the error message). */
  val: string;
}

/** Words with a meaning of their own, matched case-insensitively like lex.go's `key` map. */
export const KEYWORDS: ReadonlyMap<string, ItemType> = new Map<string, ItemType>([
  ["and", "and"], ["or", "or"], ["unless", "unless"], ["atan2", "atan2"],
  ["sum", "sum"], ["avg", "avg"], ["count", "count"], ["min", "min"], ["max", "max"], ["group", "group"],
  ["stddev", "stddev"], ["stdvar", "stdvar"], ["topk", "topk"], ["bottomk", "bottomk"],
  ["count_values", "count_values"], ["quantile", "quantile"],
  ["offset", "offset"], ["by", "by"], ["without", "without"], ["on", "on"], ["ignoring", "ignoring"],
  ["group_left", "group_left"], ["group_right", "group_right"], ["bool", "bool"],
  ["start", "start"], ["end", "end"],
  // Special numbers: `Inf`, `NaN` in any case are number literals, never metric names.
  ["inf", "NUMBER"], ["nan", "NUMBER"],
]);

export const AGGREGATORS: ReadonlySet<string> = new Set([
  "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values", "quantile",
]);
export const OPERATORS: ReadonlySet<string> = new Set([
  "+", "-", "*", "/", "%", "^", "==", "!=", "<=", "<", ">=", ">", "=~", "!~", "and", "or", "unless", "atan2",
]);
const KEYWORD_TYPES: ReadonlySet<string> = new Set([
  "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "start", "end",
]);

const EOF = -1;

function isSpace(r: number): boolean {
  return r === 0x20 || r === 0x09 || r === 0x0a || r === 0x0d;
}
function isDigit(r: number): boolean {
  return r >= 0x30 && r <= 0x39;
}
function isAlpha(r: number): boolean {
  return r === 0x5f || (r >= 0x61 && r <= 0x7a) || (r >= 0x41 && r <= 0x5a);
}
function isAlphaNumeric(r: number): boolean {
  return isAlpha(r) || isDigit(r);
}

type State = ((l: Lexer) => State) | null;

/** Pull lexer: next() returns one item at a time (COMMENT items included; the parser skips them). */
export class Lexer {
  readonly input: string;
  private pos = 0;
  private start = 0;
  private width = 0;
  private state: State = lexStatements;
  private item: Item | null = null;
  parenDepth = 0;
  braceOpen = false;
  bracketOpen = false;
  gotColon = false;
  stringOpen = 0;

  constructor(input: string) {
    this.input = input;
  }

  next(): Item {
    this.item = null;
    if (this.state === null) {
      this.emit("EOF");
    } else {
      while (this.item === null && this.state !== null) this.state = this.state(this);
      if (this.item === null) this.emit("EOF");
    }
    return this.item!;
  }

  // --- cursor helpers (code points, like Go's utf8.DecodeRuneInString) ---
  rune(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    const c = this.input.codePointAt(this.pos)!;
    this.width = c > 0xffff ? 2 : 1;
    this.pos += this.width;
    return c;
  }
  peek(): number {
    const r = this.rune();
    this.backup();
    return r;
  }
  backup(): void {
    this.pos -= this.width;
  }
  accept(valid: string): boolean {
    const r = this.rune();
    if (r !== EOF && valid.includes(String.fromCodePoint(r))) return true;
    this.backup();
    return false;
  }
  acceptRun(valid: string): void {
    for (;;) {
      const r = this.rune();
      if (r === EOF || !valid.includes(String.fromCodePoint(r))) break;
    }
    this.backup();
  }
  emit(type: ItemType): void {
    this.item = { type, pos: this.start, val: this.input.slice(this.start, this.pos) };
    this.start = this.pos;
  }
  ignore(): void {
    this.start = this.pos;
  }
  errorf(msg: string): State {
    this.item = { type: "ERROR", pos: this.start, val: msg };
    return null;
  }
  word(): string {
    return this.input.slice(this.start, this.pos);
  }
  /** At a `#` line comment? (Checked without slicing: that would make lexing quadratic.) */
  atComment(): boolean {
    return this.input.charCodeAt(this.pos) === 0x23;
  }

  /** Decimal, hex (0x), octal-looking, float and exponent forms; false if an alphanumeric follows. */
  scanNumber(): boolean {
    let digits = "0123456789";
    if (this.accept("0") && this.accept("xX")) digits = "0123456789abcdefABCDEF";
    this.acceptRun(digits);
    if (this.accept(".")) this.acceptRun(digits);
    if (this.accept("eE")) {
      this.accept("+-");
      this.acceptRun("0123456789");
    }
    return !isAlphaNumeric(this.peek());
  }

  /** Units after the leading digits of a duration; bad unit orders are caught by parseDuration. */
  acceptRemainingDuration(): boolean {
    if (!this.accept("smhdwy")) return false;
    this.accept("s"); // ms
    while (this.accept("0123456789")) {
      while (this.accept("0123456789")) { /* absorb */ }
      if (!this.accept("smhdw")) return false;
      this.accept("s");
    }
    return !isAlphaNumeric(this.rune());
  }
}

/** Go's %q of a single rune, for lexer messages like `unexpected character: '§'`. */
export function quoteRune(r: number): string {
  if (r === EOF) return "U+FFFFFFFF"; // never printed in practice
  switch (r) {
    case 0x27: return "'\\''";
    case 0x5c: return "'\\\\'";
    case 0x0a: return "'\\n'";
    case 0x0d: return "'\\r'";
    case 0x09: return "'\\t'";
    case 0x07: return "'\\a'";
    case 0x08: return "'\\b'";
    case 0x0c: return "'\\f'";
    case 0x0b: return "'\\v'";
  }
  if (r < 0x20 || r === 0x7f) return `'\\x${r.toString(16).padStart(2, "0")}'`;
  return `'${String.fromCodePoint(r)}'`;
}

/** Go's %#U: U+0027 '''. */
function unicodeDesc(r: number): string {
  const hex = r.toString(16).toUpperCase().padStart(4, "0");
  return r >= 0x20 && r !== 0x7f ? `U+${hex} '${String.fromCodePoint(r)}'` : `U+${hex}`;
}

function lexStatements(l: Lexer): State {
  if (l.braceOpen) return lexInsideBraces;
  if (l.atComment()) return lexLineComment;
  const r = l.rune();
  switch (true) {
    case r === EOF:
      if (l.parenDepth !== 0) return l.errorf("unclosed left parenthesis");
      if (l.bracketOpen) return l.errorf("unclosed left bracket");
      l.emit("EOF");
      return null;
    case r === 0x2c: l.emit(","); break;
    case isSpace(r): return lexSpace;
    case r === 0x2a: l.emit("*"); break;
    case r === 0x2f: l.emit("/"); break;
    case r === 0x25: l.emit("%"); break;
    case r === 0x2b: l.emit("+"); break;
    case r === 0x2d: l.emit("-"); break;
    case r === 0x5e: l.emit("^"); break;
    case r === 0x3d: { // =
      const t = l.peek();
      if (t === 0x3d) {
        l.rune();
        l.emit("==");
      } else if (t === 0x7e) {
        return l.errorf(`unexpected character after '=': ${quoteRune(t)}`);
      } else l.emit("=");
      break;
    }
    case r === 0x21: { // !
      const t = l.rune();
      if (t !== 0x3d) return l.errorf(`unexpected character after '!': ${quoteRune(t)}`);
      l.emit("!=");
      break;
    }
    case r === 0x3c:
      if (l.peek() === 0x3d) { l.rune(); l.emit("<="); } else l.emit("<");
      break;
    case r === 0x3e:
      if (l.peek() === 0x3d) { l.rune(); l.emit(">="); } else l.emit(">");
      break;
    case isDigit(r) || (r === 0x2e && isDigit(l.peek())):
      l.backup();
      return lexNumberOrDuration;
    case r === 0x22 || r === 0x27:
      l.stringOpen = r;
      return lexString;
    case r === 0x60:
      l.stringOpen = r;
      return lexRawString;
    case isAlpha(r) || r === 0x3a:
      if (!l.bracketOpen) {
        l.backup();
        return lexKeywordOrIdentifier;
      }
      if (l.gotColon) return l.errorf(`unexpected colon ${quoteRune(r)}`);
      l.emit(":");
      l.gotColon = true;
      break;
    case r === 0x28:
      l.emit("(");
      l.parenDepth++;
      break;
    case r === 0x29:
      l.emit(")");
      l.parenDepth--;
      if (l.parenDepth < 0) return l.errorf(`unexpected right parenthesis ${quoteRune(r)}`);
      break;
    case r === 0x7b:
      l.emit("{");
      l.braceOpen = true;
      return lexInsideBraces;
    case r === 0x5b:
      if (l.bracketOpen) return l.errorf(`unexpected left bracket ${quoteRune(r)}`);
      l.gotColon = false;
      l.emit("[");
      while (isSpace(l.peek())) l.rune();
      l.ignore();
      l.bracketOpen = true;
      return lexDuration;
    case r === 0x5d:
      if (!l.bracketOpen) return l.errorf(`unexpected right bracket ${quoteRune(r)}`);
      l.emit("]");
      l.bracketOpen = false;
      break;
    case r === 0x40:
      l.emit("@");
      break;
    default:
      return l.errorf(`unexpected character: ${quoteRune(r)}`);
  }
  return lexStatements;
}

function lexInsideBraces(l: Lexer): State {
  if (l.atComment()) return lexLineComment;
  const r = l.rune();
  switch (true) {
    case r === EOF: return l.errorf("unexpected end of input inside braces");
    case isSpace(r): return lexSpace;
    case isAlpha(r):
      l.backup();
      return lexIdentifier;
    case r === 0x2c: l.emit(","); break;
    case r === 0x22 || r === 0x27:
      l.stringOpen = r;
      return lexString;
    case r === 0x60:
      l.stringOpen = r;
      return lexRawString;
    case r === 0x3d:
      if (l.rune() === 0x7e) {
        l.emit("=~");
        break;
      }
      l.backup();
      l.emit("=");
      break;
    case r === 0x21: {
      const nr = l.rune();
      if (nr === 0x7e) l.emit("!~");
      else if (nr === 0x3d) l.emit("!=");
      else return l.errorf(`unexpected character after '!' inside braces: ${quoteRune(nr)}`);
      break;
    }
    case r === 0x7b: return l.errorf(`unexpected left brace ${quoteRune(r)}`);
    case r === 0x7d:
      l.emit("}");
      l.braceOpen = false;
      return lexStatements;
    default:
      return l.errorf(`unexpected character inside braces: ${quoteRune(r)}`);
  }
  return lexInsideBraces;
}

function lexEscape(l: Lexer): State {
  let ch = l.rune();
  let n: number, base: number, max: number;
  switch (ch) {
    case 0x61: case 0x62: case 0x66: case 0x6e: case 0x72: case 0x74: case 0x76: case 0x5c: // a b f n r t v \
      return lexString;
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37:
      n = 3; base = 8; max = 255;
      break;
    case 0x78: ch = l.rune(); n = 2; base = 16; max = 255; break; // x
    case 0x75: ch = l.rune(); n = 4; base = 16; max = 0x10ffff; break; // u
    case 0x55: ch = l.rune(); n = 8; base = 16; max = 0x10ffff; break; // U
    case EOF:
      l.errorf("escape sequence not terminated");
      return null;
    default:
      if (ch === l.stringOpen) return lexString;
      l.errorf(`unknown escape sequence ${unicodeDesc(ch)}`);
      return null;
  }
  let x = 0;
  while (n > 0) {
    const d = digitVal(ch);
    if (d >= base) {
      if (ch === EOF) l.errorf("escape sequence not terminated");
      else l.errorf(`illegal character ${unicodeDesc(ch)} in escape sequence`);
      return null;
    }
    x = x * base + d;
    n--;
    if (n > 0) ch = l.rune();
  }
  if (x > max || (x >= 0xd800 && x < 0xe000)) {
    l.errorf("escape sequence is an invalid Unicode code point");
    return null;
  }
  return lexString;
}

function digitVal(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (ch >= 0x61 && ch <= 0x66) return ch - 0x61 + 10;
  if (ch >= 0x41 && ch <= 0x46) return ch - 0x41 + 10;
  return 16;
}

function lexString(l: Lexer): State {
  for (;;) {
    const r = l.rune();
    if (r === 0x5c) return lexEscape;
    if (r === EOF || r === 0x0a) return l.errorf("unterminated quoted string");
    if (r === l.stringOpen) break;
  }
  l.emit("STRING");
  return lexStatements;
}

function lexRawString(l: Lexer): State {
  for (;;) {
    const r = l.rune();
    if (r === EOF) {
      l.errorf("unterminated raw string");
      return null;
    }
    if (r === l.stringOpen) break;
  }
  l.emit("STRING");
  return lexStatements;
}

function lexSpace(l: Lexer): State {
  while (isSpace(l.peek())) l.rune();
  l.ignore();
  return lexStatements;
}

function lexLineComment(l: Lexer): State {
  l.rune(); // '#'
  for (;;) {
    const r = l.rune();
    if (r === EOF || r === 0x0a || r === 0x0d) break;
  }
  l.backup();
  l.emit("COMMENT");
  return lexStatements;
}

function lexDuration(l: Lexer): State {
  if (l.scanNumber()) return l.errorf("missing unit character in duration");
  if (!l.acceptRemainingDuration()) return l.errorf(`bad duration syntax: ${goQuoteShort(l.word())}`);
  l.backup();
  l.emit("DURATION");
  return lexStatements;
}

function lexNumberOrDuration(l: Lexer): State {
  if (l.scanNumber()) {
    l.emit("NUMBER");
    return lexStatements;
  }
  if (l.acceptRemainingDuration()) {
    l.backup();
    l.emit("DURATION");
    return lexStatements;
  }
  return l.errorf(`bad number or duration syntax: ${goQuoteShort(l.word())}`);
}

function lexIdentifier(l: Lexer): State {
  while (isAlphaNumeric(l.rune())) { /* absorb */ }
  l.backup();
  l.emit("IDENTIFIER");
  return lexStatements;
}

function lexKeywordOrIdentifier(l: Lexer): State {
  for (;;) {
    const r = l.rune();
    if (isAlphaNumeric(r) || r === 0x3a) continue;
    l.backup();
    const word = l.word();
    const kw = KEYWORDS.get(word.toLowerCase());
    if (kw !== undefined) l.emit(kw);
    else if (!word.includes(":")) l.emit("IDENTIFIER");
    else l.emit("METRIC_IDENTIFIER");
    return lexStatements;
  }
}

/** Go %q for ASCII-ish strings in lexer messages. */
function goQuoteShort(s: string): string {
  return JSON.stringify(s);
}

export function isKeywordType(t: ItemType): boolean {
  return KEYWORD_TYPES.has(t);
}
export function isAggregatorType(t: ItemType): boolean {
  return AGGREGATORS.has(t);
}
export function isOperatorType(t: ItemType): boolean {
  return OPERATORS.has(t);
}

/** Item.desc() of lex.go: how an unexpected token is named in messages. */
export function describeItem(it: Item): string {
  switch (it.type) {
    case "EOF": return "end of input";
    case "ERROR": return it.val;
    case "COMMENT": return "comment";
    case "IDENTIFIER": return `identifier ${JSON.stringify(it.val)}`;
    case "METRIC_IDENTIFIER": return `metric identifier ${JSON.stringify(it.val)}`;
    case "STRING": return `string ${goQuoteTrunc(it.val)}`;
    case "NUMBER": return `number ${goQuoteTrunc(it.val)}`;
    case "DURATION": return `duration ${goQuoteTrunc(it.val)}`;
  }
  // Prometheus 2.42 has no display string for AT, so its description comes out this odd way.
  if (it.type === "@") return '"<Item 57385>" <op:@>';
  if (isKeywordType(it.type)) return `<${it.val}>`;
  if (isOperatorType(it.type)) return `<op:${it.val}>`;
  if (isAggregatorType(it.type)) return `<aggr:${it.val}>`;
  return JSON.stringify(it.val);
}

/** fmt %.10q...: long token texts are cut after 10 characters. */
function goQuoteTrunc(s: string): string {
  return s.length > 10 ? `${JSON.stringify(s.slice(0, 10))}...` : JSON.stringify(s);
}
