// PromQL parser (Prometheus 2.42 language) into ast.ts. A precedence-climbing parser that accepts
// and rejects what Prometheus' yacc grammar (promql/parser/generated_parser.y) does, then the same
// type checks as parse.go's checkAST. Errors are CodedError "bad_data" whose message has
// Prometheus' form: `<line>:<col>: parse error: <what>` (col in bytes, 1-based). Like Prometheus,
// the first error found is reported; type checks run only when the syntax is fine.

import { CodedError } from "../encoding/errors.ts";
import { METRIC_NAME } from "../labels/labels.ts";
import { newMatcher, type Matcher } from "../labels/matcher.ts";
import type {
  AggregateExpr, AggregateOp, AtModifier, BinaryExpr, BinaryOp, Call, Expr, MatrixSelector, NumberLiteral,
  PosRange, SubqueryExpr, ValueType, VectorMatching, VectorSelector,
} from "./ast.ts";
import { AGGREGATORS, describeItem, type Item, type ItemType, Lexer } from "./lexer.ts";
import { parseDuration as parseModelDuration, parseNumberToken, unquoteString } from "./parse-literals.ts";
import { documentedType, getFunction } from "./signatures.ts";

export { parseDuration as parseModelDuration } from "./parse-literals.ts";

/** Binding power of binary operators, lowest first (generated_parser.y %left/%right lines). */
const PRECEDENCE: Record<string, number> = {
  or: 1,
  and: 2, unless: 2,
  "==": 3, "!=": 3, "<=": 3, "<": 3, ">=": 3, ">": 3,
  "+": 4, "-": 4,
  "*": 5, "/": 5, "%": 5, atan2: 5,
  "^": 6,
};
/** Unary +/- bind like `*`: `-a^b` is `-(a^b)`, `-a*b` is `(-a)*b`. */
const UNARY_OPERAND_PREC = 6;

const COMPARISON = new Set(["==", "!=", "<=", "<", ">=", ">"]);
const SET_OPS = new Set(["and", "or", "unless"]);
const PARAM_AGGREGATORS = new Set(["topk", "bottomk", "count_values", "quantile"]);

/** Tokens usable as a label name in by/without/on/ignoring/group_x lists (the grammar's maybe_label). */
const MAYBE_LABEL = new Set<ItemType>([
  "IDENTIFIER", "METRIC_IDENTIFIER", "avg", "bool", "bottomk", "by", "count", "count_values", "group", "group_left",
  "group_right", "ignoring", "and", "or", "unless", "max", "min", "offset", "on", "quantile", "stddev", "stdvar",
  "sum", "topk", "start", "end", "atan2", "without",
]);
/** Keywords that still name a metric where an expression starts (`offset`, `by`, `sum{}`...). */
const METRIC_KEYWORDS = new Set<ItemType>([
  "avg", "bottomk", "by", "count", "count_values", "group", "and", "or", "unless", "max", "min", "offset",
  "quantile", "stddev", "stdvar", "sum", "topk", "without", "start", "end",
]);

/**
 * Nesting limit (parentheses, calls, unary operators): Prometheus has none, but a JS stack is
 * finite, and the engine and printer recurse over the tree too. Real queries stay far below it.
 */
const MAX_DEPTH = 1000;

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A syntax error: parsing stops (yacc has no recovery for these). */
class Stop {
  constructor(readonly pos: number, readonly msg: string) {}
}

interface ParseErr { pos: number; msg: string }

/** Parse a PromQL expression; throws CodedError "bad_data" with Prometheus' position prefix. */
export function parseExpr(input: string): Expr {
  const p = new Parser(input);
  let expr: Expr | null = null;
  try {
    expr = p.parseTop();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    p.errors.push({ pos: e.pos, msg: e.msg });
  }
  if (p.errors.length === 0 && expr !== null) p.check(expr);
  if (p.errors.length > 0) throw parseError(input, p.errors[0]!);
  return expr!;
}

/** Parse a series selector like `up{job="x"}` (match[] and --selector): the matchers, name last. */
export function parseMetricSelector(input: string): Matcher[] {
  const p = new Parser(input);
  let vs: VectorSelector | null = null;
  try {
    vs = p.parseSelectorOnly();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    p.errors.push({ pos: e.pos, msg: e.msg });
  }
  if (p.errors.length > 0) throw parseError(input, p.errors[0]!);
  return vs!.matchers;
}

/** A duration like `1h30m` (Prometheus model.ParseDuration) in milliseconds. */
export function parseDuration(s: string): number {
  return parseModelDuration(s);
}

/** `line:col: parse error: msg` with col counted in UTF-8 bytes like Prometheus' ParseErr. */
export function parseError(input: string, e: ParseErr): CodedError {
  const pos = Math.max(0, Math.min(e.pos, input.length));
  let line = 1, lineStart = 0;
  for (let i = 0; i < pos; i++) {
    if (input.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  const col = utf8Len(input.slice(lineStart, pos)) + 1;
  const err = new CodedError("bad_data", `${line}:${col}: parse error: ${e.msg}`);
  (err as CodedError & { position?: { line: number; column: number; offset: number } }).position = { line, column: col, offset: pos };
  return err;
}

function utf8Len(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** newMatcher with RE2 semantics; a bad regex is a CodedError whose message is Go's. */
const makeMatcher = newMatcher;

function range(start: number, end: number): PosRange {
  return { start, end };
}

class Parser {
  readonly input: string;
  private readonly lex: Lexer;
  /**
   * The current token, read lazily: like yacc's default reductions, a finished construct records
   * its semantic errors before the next token is lexed, so that token's lexer error comes second.
   */
  private cur: Item | null = null;
  private peeked: Item | null = null;
  /** End of the last token consumed (Prometheus' lastClosing for `)`/`]`/`}` and modifiers). */
  private lastEnd = 0;
  readonly errors: ParseErr[] = [];
  private depth = 0;
  /** Aggregations whose arguments are being parsed. */
  private aggDepth = 0;

  constructor(input: string) {
    this.input = input;
    this.lex = new Lexer(input);
  }

  /** Read the first token; a lexer error there is thrown as a Stop like any other. */
  start(): void {
    void this.tok;
  }

  private get tok(): Item {
    if (this.cur === null) {
      this.cur = this.peeked ?? this.fetch();
      this.peeked = null;
    }
    return this.cur;
  }

  /** Current token type (a method so TS does not narrow it across advance()). */
  private ty(): ItemType {
    return this.tok.type;
  }

  private fetch(): Item {
    for (;;) {
      const it = this.lex.next();
      if (it.type === "COMMENT") continue;
      if (it.type === "ERROR") throw new Stop(it.pos, it.val);
      return it;
    }
  }

  private advance(): Item {
    const t = this.tok;
    this.lastEnd = t.pos + t.val.length;
    this.cur = null;
    return t;
  }

  private peek(): Item {
    void this.tok;
    this.peeked ??= this.fetch();
    return this.peeked;
  }

  /**
   * A syntax error at the current token. Without a context of its own, an error inside an
   * aggregation's arguments says "in aggregation": yacc's error recovery unwinds to the nearest
   * `aggregate_op error` rule, however deep the error sits.
   */
  private unexpected(context = "", expected = ""): Stop {
    if (context === "" && this.aggDepth > 0) context = "aggregation";
    let msg = `unexpected ${describeItem(this.tok)}`;
    if (context) msg += ` in ${context}`;
    if (expected) msg += `, expected ${expected}`;
    return new Stop(this.tok.pos, msg);
  }

  private expect(type: ItemType, context = "", expected = ""): Item {
    if (this.ty() !== type) throw this.unexpected(context, expected || JSON.stringify(type));
    return this.advance();
  }

  private addErr(pos: number, msg: string): void {
    this.errors.push({ pos, msg });
  }

  parseTop(): Expr {
    this.start();
    if (this.ty() === "EOF") throw new Stop(0, "no expression found in input");
    const e = this.parseBinary(0);
    if (this.ty() !== "EOF") throw this.unexpected();
    return e;
  }

  parseSelectorOnly(): VectorSelector {
    this.start();
    const t = this.tok;
    let vs: VectorSelector;
    if (t.type === "{") vs = this.parseVectorSelector(null);
    else if (t.type === "IDENTIFIER" || t.type === "METRIC_IDENTIFIER" || METRIC_KEYWORDS.has(t.type)) {
      this.advance();
      vs = this.parseVectorSelector(t);
    } else throw this.unexpected();
    if (this.ty() !== "EOF") throw this.unexpected();
    return vs;
  }

  private parseBinary(minPrec: number): Expr {
    let lhs = this.parseUnary();
    // Each operator of a left-associative chain nests the tree one level deeper.
    let added = 0;
    try {
      return this.parseBinaryChain(lhs, minPrec, () => {
        added++;
        if (++this.depth > MAX_DEPTH) throw new Stop(this.tok.pos, `expression nested deeper than ${MAX_DEPTH} levels`);
      });
    } finally {
      this.depth -= added;
    }
  }

  private parseBinaryChain(lhs: Expr, minPrec: number, deeper: () => void): Expr {
    for (;;) {
      const opTok = this.tok;
      const prec = PRECEDENCE[opTok.type];
      if (prec === undefined || prec < minPrec) return lhs;
      deeper();
      this.advance();
      const op = opTok.type as BinaryOp;
      let returnBool = false;
      if (this.ty() === "bool") {
        this.advance();
        returnBool = true;
      }
      const matching: VectorMatching = { card: "one-to-one", matchingLabels: [], on: false, include: [] };
      if (this.ty() === "on" || this.ty() === "ignoring") {
        matching.on = this.advance().type === "on";
        matching.matchingLabels = this.parseGroupingLabels();
        if (this.ty() === "group_left" || this.ty() === "group_right") {
          matching.card = this.advance().type === "group_left" ? "many-to-one" : "one-to-many";
          if (this.ty() === "(") matching.include = this.parseGroupingLabels();
          else if (!canStartExpr(this.ty())) throw this.unexpected("grouping opts", '"("');
        }
      }
      const rhs = this.parseBinary(op === "^" ? prec : prec + 1);
      const be: BinaryExpr = { kind: "BinaryExpr", op, lhs, rhs, matching, returnBool, pos: range(lhs.pos.start, rhs.pos.end) };
      lhs = be;
    }
  }

  private parseUnary(): Expr {
    if (++this.depth > MAX_DEPTH) throw new Stop(this.tok.pos, `expression nested deeper than ${MAX_DEPTH} levels`);
    try {
      return this.parseUnaryInner();
    } finally {
      this.depth--;
    }
  }

  private parseUnaryInner(): Expr {
    const t = this.tok;
    if (t.type === "+" || t.type === "-") {
      this.advance();
      const operand = this.parseBinary(UNARY_OPERAND_PREC);
      if (operand.kind === "NumberLiteral") {
        // The grammar folds a sign into a number literal: `-1` is a literal, not a unary expression.
        return { kind: "NumberLiteral", val: t.type === "-" ? -operand.val : operand.val, pos: range(t.pos, operand.pos.end) };
      }
      return { kind: "UnaryExpr", op: t.type, expr: operand, pos: range(t.pos, operand.pos.end) };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Expr {
    const t = this.tok;
    switch (t.type) {
      case "NUMBER": {
        this.advance();
        return { kind: "NumberLiteral", val: this.number(t), pos: range(t.pos, t.pos + t.val.length) };
      }
      case "STRING":
        this.advance();
        return { kind: "StringLiteral", val: unquoteString(t.val), pos: range(t.pos, t.pos + t.val.length) };
      case "(": {
        this.advance();
        const e = this.parseBinary(0);
        if (this.ty() !== ")") throw this.unexpected();
        this.advance();
        return { kind: "ParenExpr", expr: e, pos: range(t.pos, this.lastEnd) };
      }
      case "{":
        return this.parseVectorSelector(null);
      case "IDENTIFIER":
        this.advance();
        if (this.ty() === "(") return this.parseCall(t);
        return this.parseVectorSelector(t);
      case "METRIC_IDENTIFIER":
        this.advance();
        return this.parseVectorSelector(t);
    }
    if (AGGREGATORS.has(t.type)) {
      const next = this.peek().type;
      if (next === "(" || next === "by" || next === "without") return this.parseAggregate();
    }
    if (METRIC_KEYWORDS.has(t.type)) {
      this.advance();
      return this.parseVectorSelector(t);
    }
    throw this.unexpected();
  }

  private number(t: Item): number {
    const v = parseNumberToken(t.val);
    if (v === null) {
      const why = numberErrorKind(t.val);
      this.addErr(t.pos, `error parsing number: strconv.ParseFloat: parsing ${JSON.stringify(t.val)}: ${why}`);
      return 0;
    }
    return v;
  }

  private parseVectorSelector(nameTok: Item | null): VectorSelector {
    const start = nameTok ? nameTok.pos : this.tok.pos;
    let matchers: Matcher[] = [];
    let end = nameTok ? nameTok.pos + nameTok.val.length : start;
    if (this.ty() === "{") {
      matchers = this.parseLabelMatchers();
      end = this.lastEnd;
    }
    const name = nameTok ? nameTok.val : "";
    if (name !== "") matchers.push(makeMatcher("=", METRIC_NAME, name));
    return { kind: "VectorSelector", name, matchers, offset: 0, at: null, pos: range(start, end) };
  }

  private parseLabelMatchers(): Matcher[] {
    this.expect("{");
    const out: Matcher[] = [];
    for (;;) {
      if (this.ty() === "}") break;
      if (this.ty() !== "IDENTIFIER") throw this.unexpected("label matching", 'identifier or "}"');
      const name = this.advance();
      const opTok = this.tok;
      if (opTok.type !== "=" && opTok.type !== "!=" && opTok.type !== "=~" && opTok.type !== "!~") {
        throw this.unexpected("label matching", "label matching operator");
      }
      this.advance();
      if (this.ty() !== "STRING") throw this.unexpected("label matching", "string");
      const valTok = this.advance();
      try {
        out.push(makeMatcher(opTok.type, name.val, unquoteString(valTok.val)));
      } catch (e) {
        this.addErr(name.pos, (e as Error).message);
        out.push(makeMatcher("=", name.val, ""));
      }
      if (this.ty() === ",") {
        this.advance();
        continue;
      }
      if (this.ty() !== "}") throw this.unexpected("label matching", '"," or "}"');
    }
    this.advance();
    return out;
  }

  private parseGroupingLabels(): string[] {
    if (this.ty() !== "(") throw this.unexpected("grouping opts", '"("');
    this.advance();
    const labels: string[] = [];
    for (;;) {
      if (this.ty() === ")") break;
      if (!MAYBE_LABEL.has(this.ty())) throw this.unexpected("grouping opts", "label");
      if (!LABEL_NAME_RE.test(this.tok.val)) throw this.unexpected("grouping opts", "label");
      labels.push(this.advance().val);
      if (this.ty() === ",") {
        this.advance();
        continue;
      }
      if (this.ty() !== ")") throw this.unexpected("grouping opts", '"," or ")"');
    }
    this.advance();
    return labels;
  }

  /** `(` args `)` of a call or aggregation; a trailing comma is an error like in Prometheus. */
  private parseCallArgs(): Expr[] {
    this.expect("(", "", '"("');
    const args: Expr[] = [];
    if (this.ty() === ")") {
      this.advance();
      return args;
    }
    for (;;) {
      args.push(this.parseBinary(0));
      if (this.ty() === ",") {
        const comma = this.advance();
        if (!canStartExpr(this.ty())) {
          // yacc reduces `args COMMA` (reporting the comma) before it notices what follows.
          this.addErr(comma.pos, "trailing commas not allowed in function call args");
          if (this.ty() !== ")") throw this.unexpected();
          this.advance();
          return args;
        }
        continue;
      }
      if (this.ty() === ")") {
        this.advance();
        return args;
      }
      throw this.unexpected();
    }
  }

  private parseCall(nameTok: Item): Expr {
    const args = this.parseCallArgs();
    if (!getFunction(nameTok.val)) this.addErr(nameTok.pos, `unknown function with name ${JSON.stringify(nameTok.val)}`);
    const call: Call = { kind: "Call", func: nameTok.val, args, pos: range(nameTok.pos, this.lastEnd) };
    return call;
  }

  private parseAggregate(): Expr {
    const opTok = this.advance();
    const op = opTok.type as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    let haveModifier = false;
    if (this.ty() === "by" || this.ty() === "without") {
      without = this.advance().type === "without";
      grouping = this.parseGroupingLabels();
      haveModifier = true;
    }
    if (this.ty() !== "(") throw this.unexpected("aggregation");
    this.aggDepth++;
    let args: Expr[];
    try {
      args = this.parseCallArgs();
    } finally {
      this.aggDepth--;
    }
    if (!haveModifier && (this.ty() === "by" || this.ty() === "without")) {
      without = this.advance().type === "without";
      grouping = this.parseGroupingLabels();
    }
    const pos = range(opTok.pos, this.lastEnd);
    const agg: AggregateExpr = { kind: "AggregateExpr", op, expr: args[0]!, param: null, grouping, without, pos };
    if (args.length === 0) {
      this.addErr(pos.start, "no arguments for aggregate expression provided");
      agg.expr = { kind: "NumberLiteral", val: 0, pos };
      return agg;
    }
    const want = PARAM_AGGREGATORS.has(op) ? 2 : 1;
    if (want === 2) agg.param = args[0]!;
    if (args.length !== want) {
      this.addErr(pos.start, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
      return agg;
    }
    agg.expr = args[want - 1]!;
    return agg;
  }

  /** `[range]`, `[range:step]`, `offset d`, `@ t` after an expression (they bind tightest). */
  private parsePostfix(e: Expr): Expr {
    for (;;) {
      switch (this.ty()) {
        case "[":
          e = this.parseRangeOrSubquery(e);
          break;
        case "offset":
          e = this.parseOffset(e);
          break;
        case "@":
          e = this.parseAt(e);
          break;
        default:
          return e;
      }
    }
  }

  private durationValue(t: Item): number {
    let d: number;
    try {
      d = parseModelDuration(t.val);
    } catch (err) {
      this.addErr(t.pos, (err as Error).message);
      return 1;
    }
    if (d === 0) {
      this.addErr(t.pos, "duration must be greater than 0");
      return 1;
    }
    return d;
  }

  private parseRangeOrSubquery(e: Expr): Expr {
    const open = this.advance();
    if (this.ty() !== "DURATION") throw this.unexpected("", "duration");
    const rangeTok = this.advance();
    const rng = this.durationValue(rangeTok);
    if (this.ty() === ":") {
      this.advance();
      let step = 0;
      if (this.ty() === "DURATION") {
        step = this.durationValue(this.advance());
        if (this.ty() !== "]") throw this.unexpected("subquery selector", '"]"');
      }
      if (this.ty() !== "]") throw this.unexpected("subquery selector", 'duration or "]"');
      this.advance();
      const sq: SubqueryExpr = { kind: "SubqueryExpr", expr: e, range: rng, step, offset: 0, at: null, pos: range(e.pos.start, this.lastEnd) };
      return sq;
    }
    if (this.ty() !== "]") throw this.unexpected("subquery or range", '":" or "]"');
    const close = this.advance();
    let err = "";
    if (e.kind !== "VectorSelector") err = "ranges only allowed for vector selectors";
    else if (e.offset !== 0) err = "no offset modifiers allowed before range";
    else if (e.at !== null) err = "no @ modifiers allowed before range";
    if (err) this.addErr(open.pos, err);
    void close;
    const vs: VectorSelector = e.kind === "VectorSelector"
      ? e
      : { kind: "VectorSelector", name: "", matchers: [], offset: 0, at: null, pos: e.pos };
    const ms: MatrixSelector = { kind: "MatrixSelector", vs, range: rng, pos: range(e.pos.start, this.lastEnd) };
    return ms;
  }

  /** The selector/subquery that carries offset and @ for e, or null (an error was recorded). */
  private modifierTarget(e: Expr, what: "offset" | "@"): VectorSelector | SubqueryExpr | null {
    switch (e.kind) {
      case "VectorSelector": return e;
      case "MatrixSelector": return e.vs;
      case "SubqueryExpr": return e;
    }
    this.addErr(e.pos.start, what === "offset"
      ? "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"
      : "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
    return null;
  }

  private parseOffset(e: Expr): Expr {
    this.advance();
    let neg = false;
    if (this.ty() === "-") {
      this.advance();
      neg = true;
    }
    if (this.ty() !== "DURATION") throw this.unexpected("offset", "duration");
    const d = this.durationValue(this.advance());
    const target = this.modifierTarget(e, "offset");
    if (target) {
      if (target.offset !== 0) this.addErr(e.pos.start, "offset may not be set multiple times");
      else target.offset = neg ? -d : d;
      e.pos = range(e.pos.start, this.lastEnd);
    }
    return e;
  }

  private parseAt(e: Expr): Expr {
    this.advance();
    let at: AtModifier;
    const t = this.tok;
    if (t.type === "start" || t.type === "end") {
      this.advance();
      if (this.ty() !== "(") throw this.unexpected("@", "timestamp");
      this.advance();
      if (this.ty() !== ")") throw this.unexpected("@", "timestamp");
      this.advance();
      at = { at: t.type };
    } else {
      let sign = 1;
      if (t.type === "+" || t.type === "-") {
        this.advance();
        if (t.type === "-") sign = -1;
        if (this.ty() !== "NUMBER") throw this.unexpected("@", "timestamp");
      }
      if (this.ty() !== "NUMBER") throw this.unexpected("@", "timestamp");
      const ts = sign * this.number(this.advance());
      // Go: outside int64 (or Inf/NaN) is an error; otherwise int64(math.Round(ts*1000)).
      if (!Number.isFinite(ts) || ts >= 9223372036854775807 || ts <= -9223372036854775808) {
        this.addErr(e.pos.start, `timestamp out of bounds for @ modifier: ${goFormatF6(ts)}`);
        at = { at: "time", ms: 0 };
      } else at = { at: "time", ms: goRound(ts * 1000) };
    }
    const target = this.modifierTarget(e, "@");
    if (target) {
      if (target.at !== null) this.addErr(e.pos.start, "@ <timestamp> may not be set multiple times");
      else target.at = at;
      e.pos = range(e.pos.start, this.lastEnd);
    }
    return e;
  }

  // ---------------------------------------------------------------- type checks (parse.go checkAST)

  check(e: Expr): ValueType {
    // Types are computed bottom-up here (not with exprType) so long operator chains stay linear.
    let t: ValueType;
    switch (e.kind) {
      case "AggregateExpr":
        t = "vector";
        this.expectType(e.expr, "vector", "aggregation expression");
        if (e.op === "topk" || e.op === "bottomk" || e.op === "quantile") this.expectType(e.param!, "scalar", "aggregation parameter");
        if (e.op === "count_values") this.expectType(e.param!, "string", "aggregation parameter");
        break;
      case "BinaryExpr": {
        const lt = this.check(e.lhs);
        const rt = this.check(e.rhs);
        t = lt === "scalar" && rt === "scalar" ? "scalar" : "vector";
        const opPos = this.operatorPos(e);
        if (e.returnBool && !COMPARISON.has(e.op)) this.addErr(opPos, "bool modifier can only be used on comparison operators");
        if (COMPARISON.has(e.op) && !e.returnBool && lt === "scalar" && rt === "scalar") {
          this.addErr(opPos, "comparisons between scalars must use BOOL modifier");
        }
        const m = e.matching;
        if (m && SET_OPS.has(e.op) && m.card === "one-to-one") m.card = "many-to-many";
        if (m && m.on) {
          for (const l of m.matchingLabels) {
            if (m.include.includes(l)) this.addErr(opPos, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
          }
        }
        if (lt !== "scalar" && lt !== "vector") this.addErr(e.lhs.pos.start, "binary expression must contain only scalar and instant vector types");
        if (rt !== "scalar" && rt !== "vector") this.addErr(e.rhs.pos.start, "binary expression must contain only scalar and instant vector types");
        if ((lt !== "vector" || rt !== "vector") && m) {
          if (m.matchingLabels.length > 0) this.addErr(e.pos.start, "vector matching only allowed between instant vectors");
          e.matching = null;
        } else if (m && SET_OPS.has(e.op)) {
          if (m.card === "one-to-many" || m.card === "many-to-one") this.addErr(e.pos.start, `no grouping allowed for ${JSON.stringify(e.op)} operation`);
          if (m.card !== "many-to-many") this.addErr(e.pos.start, "set operations must always be many-to-many");
        }
        if ((lt === "scalar" || rt === "scalar") && SET_OPS.has(e.op)) {
          this.addErr(e.pos.start, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
        }
        break;
      }
      case "Call": {
        const sig = getFunction(e.func)!;
        t = sig.returnType;
        const nargs = sig.argTypes.length;
        if (sig.variadic === 0) {
          if (nargs !== e.args.length) this.addErr(e.pos.start, `expected ${nargs} argument(s) in call to ${JSON.stringify(sig.name)}, got ${e.args.length}`);
        } else {
          const na = nargs - 1;
          if (na > e.args.length) this.addErr(e.pos.start, `expected at least ${na} argument(s) in call to ${JSON.stringify(sig.name)}, got ${e.args.length}`);
          else if (sig.variadic > 0 && na + sig.variadic < e.args.length) {
            this.addErr(e.pos.start, `expected at most ${na + sig.variadic} argument(s) in call to ${JSON.stringify(sig.name)}, got ${e.args.length}`);
          }
        }
        for (let i = 0; i < e.args.length; i++) {
          let j = i;
          if (j >= nargs) {
            if (sig.variadic === 0) break;
            j = nargs - 1;
          }
          this.expectType(e.args[i]!, sig.argTypes[j]!, `call to function ${JSON.stringify(sig.name)}`);
        }
        break;
      }
      case "ParenExpr":
        t = this.check(e.expr);
        break;
      case "UnaryExpr": {
        const it = this.check(e.expr);
        t = it;
        if (it !== "scalar" && it !== "vector") {
          this.addErr(e.pos.start, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(documentedType(it))}`);
        }
        break;
      }
      case "SubqueryExpr": {
        t = "matrix";
        const it = this.check(e.expr);
        if (it !== "vector") this.addErr(e.pos.start, `subquery is only allowed on instant vector, got ${it} instead`);
        break;
      }
      case "MatrixSelector":
        t = "matrix";
        this.check(e.vs);
        break;
      case "VectorSelector": {
        t = "vector";
        if (e.name !== "") {
          for (const m of e.matchers.slice(0, -1)) {
            if (m.name === METRIC_NAME) {
              this.addErr(e.pos.start, `metric name must not be set twice: ${JSON.stringify(e.name)} or ${JSON.stringify(m.value)}`);
            }
          }
        }
        if (!e.matchers.some((m) => !m.matches(""))) this.addErr(e.pos.start, "vector selector must contain at least one non-empty matcher");
        break;
      }
      case "StepInvariantExpr":
        t = this.check(e.expr);
        break;
      case "NumberLiteral":
        t = "scalar";
        break;
      case "StringLiteral":
        t = "string";
        break;
    }
    return t;
  }

  private expectType(e: Expr, want: ValueType, context: string): void {
    const t = this.check(e);
    if (t !== want) this.addErr(e.pos.start, `expected type ${documentedType(want)} in ${context}, got ${documentedType(t)}`);
  }

  /** Start of the operator between lhs and rhs (whitespace skipped), where Prometheus points. */
  private operatorPos(e: BinaryExpr): number {
    let i = e.lhs.pos.end;
    while (i < this.input.length && /\s/.test(this.input[i]!)) i++;
    return i;
  }
}

/** Tokens that can begin an expression (where yacc would shift rather than reduce or fail). */
function canStartExpr(t: ItemType): boolean {
  switch (t) {
    case "NUMBER": case "STRING": case "IDENTIFIER": case "METRIC_IDENTIFIER": case "{": case "(": case "+": case "-":
      return true;
  }
  return AGGREGATORS.has(t) || METRIC_KEYWORDS.has(t);
}

/** Result type of an expression (Prometheus' Expr.Type()). */
export function exprType(e: Expr): ValueType {
  switch (e.kind) {
    case "NumberLiteral": return "scalar";
    case "StringLiteral": return "string";
    case "VectorSelector": return "vector";
    case "MatrixSelector": return "matrix";
    case "SubqueryExpr": return "matrix";
    case "Call": return getFunction(e.func)?.returnType ?? "vector";
    case "AggregateExpr": return "vector";
    case "BinaryExpr": return exprType(e.lhs) === "scalar" && exprType(e.rhs) === "scalar" ? "scalar" : "vector";
    case "UnaryExpr": return exprType(e.expr);
    case "ParenExpr": return exprType(e.expr);
    case "StepInvariantExpr": return exprType(e.expr);
  }
}

function numberErrorKind(val: string): string {
  return /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$/i.test(val) ? "value out of range" : "invalid syntax";
}

/** Go math.Round: half away from zero. */
export function goRound(x: number): number {
  const r = Math.round(Math.abs(x));
  const a = Math.abs(x) - Math.floor(Math.abs(x)) === 0.5 ? Math.floor(Math.abs(x)) + 1 : r;
  return x < 0 ? -a : a;
}

/** Go fmt %f (6 decimals) for the @ bounds error; +Inf/-Inf/NaN as Go prints them. */
function goFormatF6(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return BigInt(Math.trunc(v)).toString() + ".000000";
}

export type { NumberLiteral };
