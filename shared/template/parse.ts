// Parser for Go text/template (Go 1.26 text/template/parse/parse.go and node.go): the same grammar,
// the same tree, node String() forms (they appear in execution errors as `at <...>`) and the same
// parse error texts, `template: <name>:<line>: <message>`.

import { Lexer, T, type Item } from "./lex.ts";
import { parseInt64, parseUint, parseFloat64, quote, unquote, unquoteChar } from "./strconv.ts";

export const enum N {
  Text,
  Action,
  Bool,
  Chain,
  Command,
  Dot,
  Else,
  End,
  Field,
  Identifier,
  If,
  List,
  Nil,
  Number,
  Pipe,
  Range,
  String,
  Template,
  Variable,
  With,
  Comment,
  Break,
  Continue,
}

export interface Tree {
  name: string;
  parseName: string;
  root: ListNode | null;
  text: string;
}

interface Base {
  pos: number;
  tree: Tree;
}

export interface ListNode extends Base { type: N.List; nodes: Node[] }
export interface TextNode extends Base { type: N.Text; text: string }
export interface PipeNode extends Base { type: N.Pipe; isAssign: boolean; decl: VariableNode[]; cmds: CommandNode[] }
export interface ActionNode extends Base { type: N.Action; pipe: PipeNode }
export interface CommandNode extends Base { type: N.Command; args: Node[] }
export interface IdentifierNode extends Base { type: N.Identifier; ident: string }
export interface VariableNode extends Base { type: N.Variable; ident: string[] }
export interface DotNode extends Base { type: N.Dot }
export interface NilNode extends Base { type: N.Nil }
export interface FieldNode extends Base { type: N.Field; ident: string[] }
export interface ChainNode extends Base { type: N.Chain; node: Node; field: string[] }
export interface BoolNode extends Base { type: N.Bool; value: boolean }
export interface NumberNode extends Base {
  type: N.Number;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int64: bigint;
  uint64: bigint;
  float64: number;
  complex: [number, number];
  text: string;
}
export interface StringNode extends Base { type: N.String; quoted: string; text: string }
export interface EndNode extends Base { type: N.End }
export interface ElseNode extends Base { type: N.Else }
export interface BranchNode extends Base {
  type: N.If | N.Range | N.With;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface TemplateNode extends Base { type: N.Template; name: string; pipe: PipeNode | null }
export interface BreakNode extends Base { type: N.Break }
export interface ContinueNode extends Base { type: N.Continue }
export interface CommentNode extends Base { type: N.Comment; text: string }

export type Node =
  | ListNode | TextNode | PipeNode | ActionNode | CommandNode | IdentifierNode | VariableNode | DotNode
  | NilNode | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | EndNode | ElseNode | BranchNode
  | TemplateNode | BreakNode | ContinueNode | CommentNode;

/** Node.String() as Go writes it. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case N.List:
      return n.nodes.map(nodeString).join("");
    case N.Text:
      return n.text;
    case N.Comment:
      return "{{" + n.text + "}}";
    case N.Pipe: {
      let s = "";
      if (n.decl.length > 0) {
        s = n.decl.map(nodeString).join(", ") + (n.isAssign ? " = " : " := ");
      }
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case N.Action:
      return "{{" + nodeString(n.pipe) + "}}";
    case N.Command:
      return n.args.map((a) => (a.type === N.Pipe ? "(" + nodeString(a) + ")" : nodeString(a))).join(" ");
    case N.Identifier:
      return n.ident;
    case N.Variable:
      return n.ident.join(".");
    case N.Dot:
      return ".";
    case N.Nil:
      return "nil";
    case N.Field:
      return n.ident.map((i) => "." + i).join("");
    case N.Chain: {
      const base = n.node.type === N.Pipe ? "(" + nodeString(n.node) + ")" : nodeString(n.node);
      return base + n.field.map((f) => "." + f).join("");
    }
    case N.Bool:
      return n.value ? "true" : "false";
    case N.Number:
      return n.text;
    case N.String:
      return n.quoted;
    case N.End:
      return "{{end}}";
    case N.Else:
      return "{{else}}";
    case N.If:
    case N.Range:
    case N.With: {
      const name = n.type === N.If ? "if" : n.type === N.Range ? "range" : "with";
      let s = "{{" + name + " " + nodeString(n.pipe) + "}}" + nodeString(n.list);
      if (n.elseList !== null) s += "{{else}}" + nodeString(n.elseList);
      return s + "{{end}}";
    }
    case N.Template:
      return "{{template " + quote(n.name) + (n.pipe !== null ? " " + nodeString(n.pipe) : "") + "}}";
    case N.Break:
      return "{{break}}";
    case N.Continue:
      return "{{continue}}";
  }
}

/** A parse or execution error of a template; `message` is Go's err.Error(). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** item.String() */
function itemString(i: Item): string {
  if (i.typ === T.EOF) return "EOF";
  if (i.typ === T.Error) return i.val;
  if (i.typ > T.Keyword) return `<${i.val}>`;
  if ([...i.val].length > 10) return quote([...i.val].slice(0, 10).join("")) + "...";
  return quote(i.val);
}

export type TreeSet = Map<string, Tree>;

/** Whether the tree holds nothing but space and comments (Go's parse.IsEmptyTree). */
export function isEmptyTree(n: Node | null): boolean {
  if (n === null) return true;
  switch (n.type) {
    case N.Comment:
      return true;
    case N.List:
      return n.nodes.every(isEmptyTree);
    case N.Text:
      return GO_SPACE_ONLY.test(n.text);
  }
  return false;
}

// bytes.TrimSpace trims unicode.IsSpace: JS \s without U+FEFF, plus U+0085.
const GO_SPACE_ONLY = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

class Parser {
  tree: Tree;
  lex!: Lexer;
  token: Item[] = [null!, null!, null!];
  peekCount = 0;
  vars: string[] = [];
  treeSet!: TreeSet;
  actionLine = 0;
  rangeDepth = 0;
  stackDepth = 0;
  funcs!: (name: string) => boolean;

  constructor(name: string, text: string, parseName: string) {
    this.tree = { name, parseName, root: null, text };
  }

  startParse(funcs: (name: string) => boolean, lex: Lexer, treeSet: TreeSet): void {
    this.tree.root = null;
    this.lex = lex;
    this.vars = ["$"];
    this.funcs = funcs;
    this.treeSet = treeSet;
    this.stackDepth = 0;
    lex.breakOK = !funcs("break");
    lex.continueOK = !funcs("continue");
  }

  next(): Item {
    if (this.peekCount > 0) this.peekCount--;
    else this.token[0] = this.lex.nextItem();
    return this.token[this.peekCount]!;
  }

  backup(): void {
    this.peekCount++;
  }

  backup2(t1: Item): void {
    this.token[1] = t1;
    this.peekCount = 2;
  }

  backup3(t2: Item, t1: Item): void {
    this.token[1] = t1;
    this.token[2] = t2;
    this.peekCount = 3;
  }

  peek(): Item {
    if (this.peekCount > 0) return this.token[this.peekCount - 1]!;
    this.peekCount = 1;
    this.token[0] = this.lex.nextItem();
    return this.token[0];
  }

  nextNonSpace(): Item {
    let t: Item;
    do t = this.next();
    while (t.typ === T.Space);
    return t;
  }

  peekNonSpace(): Item {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  errorf(msg: string): never {
    this.tree.root = null;
    throw new TemplateError(`template: ${this.tree.parseName}:${this.token[0]!.line}: ${msg}`);
  }

  expect(expected: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== expected) this.unexpected(t, context);
    return t;
  }

  expectOneOf(e1: T, e2: T, context: string): Item {
    const t = this.nextNonSpace();
    if (t.typ !== e1 && t.typ !== e2) this.unexpected(t, context);
    return t;
  }

  unexpected(t: Item, context: string): never {
    if (t.typ === T.Error) {
      let extra = "";
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.tree.parseName}:${this.actionLine}`;
        if (t.val.endsWith(" action")) extra = extra.slice(" in action".length);
      }
      this.errorf(`${itemString(t)}${extra}`);
    }
    this.errorf(`unexpected ${itemString(t)} in ${context}`);
  }

  node<X extends Node>(n: Omit<X, "tree">): X {
    (n as X).tree = this.tree;
    return n as X;
  }

  add(): void {
    const tree = this.treeSet.get(this.tree.name);
    if (tree === undefined || isEmptyTree(tree.root)) {
      this.treeSet.set(this.tree.name, this.tree);
      return;
    }
    if (!isEmptyTree(this.tree.root)) this.errorf(`template: multiple definition of template ${quote(this.tree.name)}`);
  }

  parse(): void {
    this.tree.root = this.newList(this.peek().pos);
    while (this.peek().typ !== T.EOF) {
      if (this.peek().typ === T.LeftDelim) {
        const delim = this.next();
        if (this.nextNonSpace().typ === T.Define) {
          const nt = new Parser("definition", this.tree.text, this.tree.parseName);
          nt.startParse(this.funcs, this.lex, this.treeSet);
          nt.parseDefinition();
          continue;
        }
        this.backup2(delim);
      }
      const n = this.textOrAction();
      if (n.type === N.End || n.type === N.Else) this.errorf(`unexpected ${nodeString(n)}`);
      this.tree.root.nodes.push(n);
    }
  }

  parseDefinition(): void {
    const context = "define clause";
    const name = this.expectOneOf(T.String, T.RawString, context);
    try {
      this.tree.name = unquote(name.val);
    } catch (e) {
      this.errorf((e as Error).message);
    }
    this.expect(T.RightDelim, context);
    const [list, end] = this.itemList();
    this.tree.root = list;
    if (end.type !== N.End) this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.add();
  }

  newList(pos: number): ListNode {
    return this.node<ListNode>({ type: N.List, pos, nodes: [] });
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().typ !== T.EOF) {
      const n = this.textOrAction();
      if (n.type === N.End || n.type === N.Else) return [list, n];
      list.nodes.push(n);
    }
    this.errorf("unexpected EOF");
  }

  textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Text:
        return this.node<TextNode>({ type: N.Text, pos: t.pos, text: t.val });
      case T.LeftDelim:
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      case T.Comment:
        return this.node<CommentNode>({ type: N.Comment, pos: t.pos, text: t.val });
    }
    this.unexpected(t, "input");
  }

  action(): Node {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Block:
        return this.blockControl();
      case T.Break:
        return this.breakControl(t.pos, "{{break}}", N.Break);
      case T.Continue:
        return this.breakControl(t.pos, "{{continue}}", N.Continue);
      case T.Else:
        return this.elseControl();
      case T.End:
        return this.endControl();
      case T.If:
        return this.branch(N.If, "if");
      case T.Range:
        return this.branch(N.Range, "range");
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch(N.With, "with");
    }
    this.backup();
    const tok = this.peek();
    return this.node<ActionNode>({ type: N.Action, pos: tok.pos, pipe: this.pipeline("command", T.RightDelim) });
  }

  breakControl(pos: number, context: string, type: N.Break | N.Continue): Node {
    const t = this.nextNonSpace();
    if (t.typ !== T.RightDelim) this.unexpected(t, context);
    if (this.rangeDepth === 0) this.errorf(`${context} outside {{range}}`);
    return this.node<BreakNode | ContinueNode>({ type, pos } as BreakNode);
  }

  newVariable(pos: number, ident: string): VariableNode {
    return this.node<VariableNode>({ type: N.Variable, pos, ident: ident.split(".") });
  }

  pipeline(context: string, end: T): PipeNode {
    const tok = this.peekNonSpace();
    const pipe = this.node<PipeNode>({ type: N.Pipe, pos: tok.pos, isAssign: false, decl: [], cmds: [] });
    decls: for (;;) {
      const v = this.peekNonSpace();
      if (v.typ === T.Variable) {
        this.next();
        const tokenAfterVariable = this.peek();
        const next = this.peekNonSpace();
        if (next.typ === T.Assign || next.typ === T.Declare) {
          pipe.isAssign = next.typ === T.Assign;
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
        } else if (next.typ === T.Char && next.val === ",") {
          this.nextNonSpace();
          pipe.decl.push(this.newVariable(v.pos, v.val));
          this.vars.push(v.val);
          if (context === "range" && pipe.decl.length < 2) {
            const p = this.peekNonSpace().typ;
            if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue decls;
            this.errorf("range can only initialize variables");
          }
          this.errorf(`too many declarations in ${context}`);
        } else if (tokenAfterVariable.typ === T.Space) {
          this.backup3(v, tokenAfterVariable);
        } else {
          this.backup2(v);
        }
      }
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      switch (t.typ) {
        case end:
          this.checkPipeline(pipe, context);
          return pipe;
        case T.Bool: case T.CharConstant: case T.Complex: case T.Dot: case T.Field: case T.Identifier:
        case T.Number: case T.Nil: case T.RawString: case T.String: case T.Variable: case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      switch (pipe.cmds[i]!.args[0]!.type) {
        case N.Bool: case N.Dot: case N.Nil: case N.Number: case N.String:
          this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  parseControl(context: string): { pos: number; pipe: PipeNode; list: ListNode; elseList: ListNode | null } {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (context === "range") this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === "range") this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.type === N.Else) {
        if (context === "if" && this.peek().typ === T.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch(N.If, "if"));
        } else if (context === "with" && this.peek().typ === T.With) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch(N.With, "with"));
        } else {
          [elseList, next] = this.itemList();
          if (next.type !== N.End) this.errorf(`expected end; found ${nodeString(next)}`);
        }
      }
      return { pos: pipe.pos, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  branch(type: N.If | N.Range | N.With, context: string): BranchNode {
    const c = this.parseControl(context);
    return this.node<BranchNode>({ type, pos: c.pos, pipe: c.pipe, list: c.list, elseList: c.elseList });
  }

  endControl(): Node {
    return this.node<EndNode>({ type: N.End, pos: this.expect(T.RightDelim, "end").pos });
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.typ === T.If || peek.typ === T.With) return this.node<ElseNode>({ type: N.Else, pos: peek.pos });
    const t = this.expect(T.RightDelim, "else");
    return this.node<ElseNode>({ type: N.Else, pos: t.pos });
  }

  blockControl(): Node {
    const context = "block clause";
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const block = new Parser(name, this.tree.text, this.tree.parseName);
    block.startParse(this.funcs, this.lex, this.treeSet);
    const [list, end] = block.itemList();
    block.tree.root = list;
    if (end.type !== N.End) this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    block.add();
    return this.node<TemplateNode>({ type: N.Template, pos: t.pos, name, pipe });
  }

  templateControl(): Node {
    const context = "template clause";
    const t = this.nextNonSpace();
    const name = this.parseTemplateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return this.node<TemplateNode>({ type: N.Template, pos: t.pos, name, pipe });
  }

  parseTemplateName(t: Item, context: string): string {
    if (t.typ === T.String || t.typ === T.RawString) {
      try {
        return unquote(t.val);
      } catch (e) {
        this.errorf((e as Error).message);
      }
    }
    this.unexpected(t, context);
  }

  command(): CommandNode {
    const cmd = this.node<CommandNode>({ type: N.Command, pos: this.peekNonSpace().pos, args: [] });
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand !== null) cmd.args.push(operand);
      const t = this.next();
      if (t.typ === T.Space) continue;
      if (t.typ === T.RightDelim || t.typ === T.RightParen) this.backup();
      else if (t.typ !== T.Pipe) this.unexpected(t, "operand");
      break;
    }
    if (cmd.args.length === 0) this.errorf("empty command");
    return cmd;
  }

  operand(): Node | null {
    let node = this.term();
    if (node === null) return null;
    if (this.peek().typ === T.Field) {
      const chain = this.node<ChainNode>({ type: N.Chain, pos: this.peek().pos, node, field: [] });
      while (this.peek().typ === T.Field) chain.field.push(this.next().val.slice(1));
      switch (node.type) {
        case N.Field:
          node = this.node<FieldNode>({ type: N.Field, pos: chain.pos, ident: nodeString(chain).slice(1).split(".") });
          break;
        case N.Variable:
          node = this.newVariable(chain.pos, nodeString(chain));
          break;
        case N.Bool: case N.String: case N.Number: case N.Nil: case N.Dot:
          this.errorf(`unexpected . after term ${quote(nodeString(node))}`);
        default:
          node = chain;
      }
    }
    return node;
  }

  term(): Node | null {
    const t = this.nextNonSpace();
    switch (t.typ) {
      case T.Identifier:
        if (!this.funcs(t.val)) this.errorf(`function ${quote(t.val)} not defined`);
        return this.node<IdentifierNode>({ type: N.Identifier, pos: t.pos, ident: t.val });
      case T.Dot:
        return this.node<DotNode>({ type: N.Dot, pos: t.pos });
      case T.Nil:
        return this.node<NilNode>({ type: N.Nil, pos: t.pos });
      case T.Variable:
        return this.useVar(t.pos, t.val);
      case T.Field:
        return this.node<FieldNode>({ type: N.Field, pos: t.pos, ident: t.val.slice(1).split(".") });
      case T.Bool:
        return this.node<BoolNode>({ type: N.Bool, pos: t.pos, value: t.val === "true" });
      case T.CharConstant: case T.Complex: case T.Number:
        return this.newNumber(t.pos, t.val, t.typ);
      case T.LeftParen: {
        if (this.stackDepth >= 10000) this.errorf("max expression depth exceeded");
        this.stackDepth++;
        try {
          return this.pipeline("parenthesized pipeline", T.RightParen);
        } finally {
          this.stackDepth--;
        }
      }
      case T.String: case T.RawString: {
        let s: string;
        try {
          s = unquote(t.val);
        } catch (e) {
          this.errorf((e as Error).message);
        }
        return this.node<StringNode>({ type: N.String, pos: t.pos, quoted: t.val, text: s });
      }
    }
    this.backup();
    return null;
  }

  useVar(pos: number, name: string): Node {
    const v = this.newVariable(pos, name);
    if (this.vars.includes(v.ident[0]!)) return v;
    this.errorf(`undefined variable ${quote(v.ident[0]!)}`);
  }

  newNumber(pos: number, text: string, typ: T): NumberNode {
    const n = this.node<NumberNode>({
      type: N.Number, pos, text, isInt: false, isUint: false, isFloat: false, isComplex: false,
      int64: 0n, uint64: 0n, float64: 0, complex: [0, 0],
    });
    if (typ === T.CharConstant) {
      let r: { value: number; next: number };
      try {
        r = unquoteChar(text, 1, 0x27);
      } catch (e) {
        this.errorf((e as Error).message);
      }
      if (text.slice(r.next) !== "'") this.errorf(`malformed character constant: ${text}`);
      n.int64 = BigInt(r.value);
      n.isInt = true;
      n.uint64 = BigInt(r.value);
      n.isUint = true;
      n.float64 = r.value;
      n.isFloat = true;
      return n;
    }
    if (typ === T.Complex) {
      const c = sscanComplex(text);
      if (typeof c === "string") this.errorf(c);
      n.isComplex = true;
      n.complex = c;
      simplifyComplex(n);
      return n;
    }
    if (text.length > 0 && text[text.length - 1] === "i") {
      const f = parseFloat64(text.slice(0, -1));
      if (f.err === undefined) {
        n.isComplex = true;
        n.complex = [0, f.v];
        simplifyComplex(n);
        return n;
      }
    }
    const u = parseUint(text);
    if (u.ok) {
      n.isUint = true;
      n.uint64 = u.v;
    }
    const i = parseInt64(text);
    if (i.ok) {
      n.isInt = true;
      n.int64 = i.v;
      if (i.v === 0n) {
        n.isUint = true;
        n.uint64 = u.ok ? u.v : 0n;
      }
    }
    if (n.isInt) {
      n.isFloat = true;
      n.float64 = Number(n.int64);
    } else if (n.isUint) {
      n.isFloat = true;
      n.float64 = Number(n.uint64);
    } else {
      const f = parseFloat64(text);
      if (f.err === undefined) {
        if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${quote(text)}`);
        n.isFloat = true;
        n.float64 = f.v;
        const t = Math.trunc(f.v);
        if (t === f.v && f.v >= -9223372036854775808 && f.v < 9223372036854775808) {
          n.isInt = true;
          n.int64 = BigInt(t);
        }
        if (t === f.v && f.v >= 0 && f.v < 18446744073709551616) {
          n.isUint = true;
          n.uint64 = BigInt(t);
        }
      }
    }
    if (!n.isInt && !n.isUint && !n.isFloat) this.errorf(`illegal number syntax: ${quote(text)}`);
    return n;
  }
}

function simplifyComplex(n: NumberNode): void {
  n.isFloat = n.complex[1] === 0;
  if (n.isFloat) {
    const f = n.complex[0];
    n.float64 = f;
    const t = Math.trunc(f);
    n.isInt = t === f && f >= -9223372036854775808 && f < 9223372036854775808;
    if (n.isInt) n.int64 = BigInt(t);
    n.isUint = t === f && f >= 0 && f < 18446744073709551616;
    if (n.isUint) n.uint64 = BigInt(t);
  }
}

/** fmt.Sscan(text, &complex128), Go's reader for complex constants: [re, im] or the error text. */
function sscanComplex(text: string): [number, number] | string {
  let i = 0;
  let buf = "";
  const accept = (chars: string): boolean => {
    if (i < text.length && chars.includes(text[i]!)) {
      buf += text[i];
      i++;
      return true;
    }
    return false;
  };
  const floatToken = (): string => {
    buf = "";
    if (accept("nN") && accept("aA") && accept("nN")) return buf;
    accept("+-");
    if (accept("iI") && accept("nN") && accept("fF")) return buf;
    let digits = "0123456789_";
    let exp = "eEpP";
    if (accept("0") && accept("xX")) {
      digits = "0123456789aAbBcCdDeEfF_";
      exp = "pP";
    }
    while (accept(digits));
    if (accept(".")) while (accept(digits));
    if (accept(exp)) {
      accept("+-");
      while (accept("0123456789_"));
    }
    return buf;
  };
  const complexError = "syntax error scanning complex number";
  if (text === "") return "unexpected EOF";
  const parens = accept("(");
  const real = floatToken();
  buf = "";
  if (!accept("+-")) return complexError;
  const sign = buf;
  const imag = sign + floatToken();
  if (!accept("i")) return complexError;
  if (parens && !accept(")")) return complexError;
  const convert = (str: string): number | string => {
    const p = str.indexOf("p");
    if (p >= 0 && !/[xX]/.test(str)) {
      const f = parseFloat64(str.slice(0, p));
      if (f.err !== undefined) return `strconv.ParseFloat: parsing ${quote(str)}: ${f.err}`;
      const m = parseInt64(str.slice(p + 1));
      if (!m.ok || /^0[xXoObB]|_/.test(str.slice(p + 1).replace(/^[+-]/, ""))) {
        return `strconv.Atoi: parsing ${quote(str)}: ${m.ok ? "invalid syntax" : m.err}`;
      }
      return f.v * 2 ** Number(m.v);
    }
    const f = parseFloat64(str);
    return f.err !== undefined ? `strconv.ParseFloat: parsing ${quote(str)}: ${f.err}` : f.v;
  };
  const re = convert(real);
  if (typeof re === "string") return re;
  const im = convert(imag);
  if (typeof im === "string") return im;
  return [re, im];
}

/**
 * Parses `text` as template `name` (text/template's Template.Parse): the returned set holds the
 * top-level tree under `name` plus every {{define}}/{{block}}. `hasFunc` says which function names
 * exist (parse fails with `function "x" not defined` otherwise). Throws TemplateError.
 */
export function parseTemplate(name: string, text: string, hasFunc: (name: string) => boolean): TreeSet {
  const treeSet: TreeSet = new Map();
  const p = new Parser(name, text, name);
  const lex = new Lexer(text);
  p.startParse(hasFunc, lex, treeSet);
  p.parse();
  p.add();
  return treeSet;
}
