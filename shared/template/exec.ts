// Executor for parsed Go templates (Go 1.26 text/template/exec.go semantics, option missingkey=zero
// as Prometheus sets it): truthiness, variables and their scopes, range over slices, maps (sorted
// keys) and integers with break/continue, with/else, template invocation, method and field lookup,
// argument conversion by parameter type, and execution errors in Go's exact shape:
//   template: <name>:<line>:<col>: executing "<name>" at <<node>>: <message>
//
// Functions are GoFunc descriptors: Go parameter types (which decide how constants convert and what
// "wrong type" errors say) plus an implementation that returns a value or throws GoCallError.

import { sprintValue } from "./fmt.ts";
import { N, nodeString, TemplateError, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type Node, type NumberNode, type PipeNode, type TemplateNode, type Tree, type TreeSet, type VariableNode } from "./parse.ts";
import { quote } from "./strconv.ts";
import {
  assignable, BOOL, COMPLEX128, GoBox, GoCallError, GoIface, GoMap, GoPtr, GoSlice, GoStruct, INT, Kind, kindOf, REFLECT_VALUE,
  typeOf, unwrapIface, utf8Length, zeroOf, FLOAT64, STRING, type GoType, type GoValue, type Method,
} from "./value.ts";

/** A function callable from templates, described by its Go signature. */
export interface GoFunc {
  /** Parameter types; when variadic, the last is the element type of the ... parameter. */
  readonly params: readonly GoType[];
  readonly variadic: boolean;
  /** The implementation: throws GoCallError for a returned error or a recovered panic. */
  readonly call: (args: GoValue[], state: State) => GoValue;
  /** Builtins and/or/call get text/template's special handling. */
  readonly special?: "and" | "or" | "call";
}

export type FuncMap = ReadonlyMap<string, GoFunc>;

/** The "no final argument" marker of pipelines (Go's missingVal). */
const MISSING = Object.freeze({ missing: true }) as unknown as GoValue;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

const MAX_EXEC_DEPTH = 100000;

/**
 * Limits Go does not have. A Go template that loops for hours only ties up its goroutine; here it
 * would stall every rule on the event loop, so execution stops with an error after this many
 * nodes or this much output (far beyond any useful annotation: typical ones walk tens of nodes).
 */
export const EXEC_LIMITS = { maxSteps: 1_000_000, maxOutput: 16 << 20 };

export interface ExecEnv {
  readonly trees: TreeSet;
  readonly funcs: FuncMap;
  /** Go's builtins (looked up after funcs; `isBuiltin` matters for and/or/call). */
  readonly builtins: FuncMap;
}

export class State {
  out = "";
  steps = 0;
  node: Node | null = null;
  varNames: string[] = [];
  varValues: GoValue[] = [];
  depth = 0;

  constructor(
    readonly env: ExecEnv,
    public tmplName: string,
    /** Per-execution context for functions (Prometheus' query answers, external URL). */
    readonly ctx: unknown = undefined,
  ) {}

  // ---- variables

  push(name: string, v: GoValue): void {
    this.varNames.push(name);
    this.varValues.push(v);
  }

  mark(): number {
    return this.varNames.length;
  }

  pop(mark: number): void {
    this.varNames.length = mark;
    this.varValues.length = mark;
  }

  setVar(name: string, v: GoValue): void {
    for (let i = this.varNames.length - 1; i >= 0; i--) {
      if (this.varNames[i] === name) {
        this.varValues[i] = v;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  setTopVar(n: number, v: GoValue): void {
    this.varValues[this.varValues.length - n] = v;
  }

  varValue(name: string): GoValue {
    for (let i = this.varNames.length - 1; i >= 0; i--) {
      if (this.varNames[i] === name) return this.varValues[i];
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ---- errors

  at(n: Node): void {
    this.node = n;
  }

  errorf(msg: string): never {
    if (this.node === null) throw new TemplateError(`template: ${this.tmplName}: ${msg}`);
    const [location, context] = errorContext(this.node);
    throw new TemplateError(`template: ${location}: executing ${quote(this.tmplName)} at <${context}>: ${msg}`);
  }

  // ---- walk

  walk(dot: GoValue, node: Node): void {
    this.node = node;
    if (++this.steps > EXEC_LIMITS.maxSteps || this.out.length > EXEC_LIMITS.maxOutput) this.overLimit();
    switch (node.type) {
      case N.Action: {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case N.Break:
        throw BREAK;
      case N.Comment:
        return;
      case N.Continue:
        throw CONTINUE;
      case N.If:
      case N.With:
        this.walkIfOrWith(node, dot);
        return;
      case N.List:
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case N.Range:
        this.walkRange(dot, node);
        return;
      case N.Template:
        this.walkTemplate(dot, node);
        return;
      case N.Text:
        this.out += node.text;
        return;
    }
    this.errorf(`unknown node: ${nodeString(node)}`);
  }

  overLimit(): never {
    const what = this.steps > EXEC_LIMITS.maxSteps ? `${EXEC_LIMITS.maxSteps} steps` : `${EXEC_LIMITS.maxOutput} characters of output`;
    this.errorf(`execution stopped after ${what} (a limit of thanots; Go has none)`);
  }

  walkIfOrWith(b: BranchNode, dot: GoValue): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, b.pipe);
      if (isTrue(val)) this.walk(b.type === N.With ? val : dot, b.list);
      else if (b.elseList !== null) this.walk(dot, b.elseList);
    } finally {
      this.pop(mark);
    }
  }

  walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const mark0 = this.mark();
    try {
      const val = indirect(this.evalPipeline(dot, r.pipe))[0];
      const mark = this.mark();
      const decl = r.pipe.decl;
      let ran = false;
      switch (kindOf(val)) {
        case Kind.Int:
        case Kind.Uint: {
          if (decl.length > 1) this.errorf(`can't use ${sprintValue(val)} to iterate over more than one variable`);
          const box = val as GoBox;
          const n = box.v as bigint;
          for (let i = 0n; i < n; i++) {
            ran = true;
            this.rangeStep(r, mark, undefined, new GoBox(box.t, i));
          }
          break;
        }
        case Kind.Slice: {
          const s = val as GoSlice;
          for (let i = 0; i < s.length; i++) {
            ran = true;
            this.rangeStep(r, mark, new GoBox(INT, BigInt(i)), s.items![i]);
          }
          break;
        }
        case Kind.Map: {
          const m = val as GoMap;
          const wrap = m.t.elem!.kind === Kind.Interface;
          for (const k of m.sortedKeys()) {
            ran = true;
            this.rangeStep(r, mark, k, wrap ? new GoIface(m.get(k)) : m.get(k));
          }
          break;
        }
        case Kind.Invalid:
          break;
        default:
          this.errorf(`range can't iterate over ${sprintValue(val)}`);
      }
      if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.pop(mark0);
    }
  }

  /** One iteration of a range: sets the range variables, runs the body, pops its variables. */
  rangeStep(r: BranchNode, mark: number, index: GoValue, elem: GoValue): void {
    const decl = r.pipe.decl;
    if (decl.length > 0) {
      if (r.pipe.isAssign) {
        if (decl.length > 1) this.setVar(decl[0]!.ident[0]!, index);
        else this.setVar(decl[0]!.ident[0]!, elem);
      } else this.setTopVar(1, elem);
    }
    if (decl.length > 1) {
      if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
      else this.setTopVar(2, index);
    }
    try {
      this.walk(elem, r.list);
    } catch (e) {
      if (e !== CONTINUE) throw e;
    } finally {
      this.pop(mark);
    }
  }

  walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (tree === undefined || tree.root === null) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth === MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    dot = this.evalPipeline(dot, t.pipe);
    const saved = { tmplName: this.tmplName, names: this.varNames, values: this.varValues, depth: this.depth };
    this.tmplName = tree.name;
    this.varNames = ["$"];
    this.varValues = [dot];
    this.depth++;
    try {
      this.walk(dot, tree.root);
    } catch (e) {
      if (e instanceof RangeError && e.message.includes("call stack")) {
        // Go stops at 100000 nested templates; the JS stack ends sooner. Report it as Go would.
        this.tmplName = saved.tmplName;
        this.node = t;
        this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
      }
      throw e;
    } finally {
      this.tmplName = saved.tmplName;
      this.varNames = saved.names;
      this.varValues = saved.values;
      this.depth = saved.depth;
    }
  }

  // ---- eval

  evalPipeline(dot: GoValue, pipe: PipeNode | null): GoValue {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value instanceof GoIface) value = value.v; // a pipeline's value is never an interface
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, value);
      else this.push(v.ident[0]!, value);
    }
    return value;
  }

  notAFunction(args: readonly Node[], final: GoValue): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  evalCommand(dot: GoValue, cmd: CommandNode, final: GoValue): GoValue {
    const first = cmd.args[0]!;
    switch (first.type) {
      case N.Field:
        return this.evalFieldNode(dot, first, cmd.args, final);
      case N.Chain:
        return this.evalChainNode(dot, first, cmd.args, final);
      case N.Identifier:
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case N.Pipe:
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case N.Variable:
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case N.Bool:
        return first.value;
      case N.Dot:
        return dot;
      case N.Nil:
        this.errorf("nil is not a command");
      case N.Number:
        return this.idealConstant(first);
      case N.String:
        return first.text;
    }
    this.errorf(`can't evaluate command ${quote(nodeString(first))}`);
  }

  idealConstant(c: NumberNode): GoValue {
    this.at(c);
    if (c.isComplex) return new GoBox(COMPLEX128, c.complex);
    if (c.isFloat && !isHexInt(c.text) && c.text[0] !== "'" && /[.eEpP]/.test(c.text)) return c.float64;
    if (c.isInt) return new GoBox(INT, c.int64);
    if (c.isUint) this.errorf(`${c.text} overflows int`);
    return undefined;
  }

  evalFieldNode(dot: GoValue, field: FieldNode, args: readonly Node[] | null, final: GoValue): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  evalChainNode(dot: GoValue, chain: ChainNode, args: readonly Node[] | null, final: GoValue): GoValue {
    this.at(chain);
    if (chain.field.length === 0) this.errorf("internal error: no fields in evalChainNode");
    if (chain.node.type === N.Nil) this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  evalVariableNode(dot: GoValue, v: VariableNode, args: readonly Node[] | null, final: GoValue): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      if (args !== null) this.notAFunction(args, final);
      else if (final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(v)}`);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident, args, final, 1);
  }

  evalFieldChain(dot: GoValue, receiver: GoValue, node: Node, ident: readonly string[], args: readonly Node[] | null, final: GoValue, from = 0): GoValue {
    const n = ident.length;
    for (let i = from; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  evalFunction(dot: GoValue, node: IdentifierNode, cmd: Node, args: readonly Node[] | null, final: GoValue): GoValue {
    this.at(node);
    const name = node.ident;
    let fn = this.env.funcs.get(name);
    let builtin = false;
    if (fn === undefined) {
      fn = this.env.builtins.get(name);
      builtin = true;
    }
    if (fn === undefined) this.errorf(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, fn, builtin, cmd, name, args, final);
  }

  evalField(dot: GoValue, fieldName: string, node: Node, args: readonly Node[] | null, final: GoValue, receiver: GoValue): GoValue {
    if (receiver === undefined) return undefined; // missingkey=zero: a missing value stays missing
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    // Fast paths for method-free maps and structs (all template data but time.Time).
    if (receiver instanceof GoMap && receiver.t.methods === undefined) return this.mapField(receiver, fieldName, hasArgs);
    if (receiver instanceof GoStruct && receiver.t.methods === undefined) {
      const i = fieldIndex(receiver.t, fieldName);
      if (i >= 0) return this.structField(receiver, i, fieldName, hasArgs, receiver.t);
      this.errorf(`can't evaluate field ${fieldName} in type ${receiver.t.str}`);
    }
    const typ = typeOf(receiver);
    const [rv, isNil] = indirect(receiver);
    if (rv instanceof GoIface && isNil) this.errorf(`nil pointer evaluating ${typ.str}.${fieldName}`);
    // Methods: value-receiver methods are in the method sets of both T and *T.
    const mt = typeOf(rv);
    const method = methodOf(mt, fieldName) ?? (typ.kind === Kind.Ptr && typ.elem !== undefined ? methodOf(typ.elem, fieldName) : undefined);
    if (method !== undefined) {
      if (isNil) {
        // A value method through a nil pointer panics inside the call.
        const f: GoFunc = { params: method.params, variadic: false, call: () => { throw new GoCallError(NIL_DEREF_MSG); } };
        return this.evalCall(dot, f, false, node, fieldName, args, final);
      }
      const f: GoFunc = { params: method.params, variadic: false, call: (a) => method.call(rv, a) };
      return this.evalCall(dot, f, false, node, fieldName, args, final);
    }
    switch (kindOf(rv)) {
      case Kind.Struct: {
        const i = fieldIndex(mt, fieldName);
        if (i >= 0) return this.structField(rv as GoStruct, i, fieldName, hasArgs, typ);
        break;
      }
      case Kind.Map: {
        const m = rv as GoMap;
        if (m.t.key?.kind === Kind.String) return this.mapField(m, fieldName, hasArgs);
        break;
      }
      case Kind.Ptr: {
        const et = mt.elem!;
        if (et.kind === Kind.Struct && fieldIndex(et, fieldName) < 0) break;
        if (isNil) this.errorf(`nil pointer evaluating ${typ.str}.${fieldName}`);
        break;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ.str}`);
  }

  mapField(m: GoMap, key: string, hasArgs: boolean): GoValue {
    if (hasArgs) this.errorf(`${key} is not a method but has arguments`);
    const elemType = m.t.elem!;
    const v = m.get(key);
    const elem = v !== undefined || m.has(key) ? v : zeroOf(elemType);
    return elemType.kind === Kind.Interface ? new GoIface(elem) : elem;
  }

  structField(s: GoStruct, i: number, name: string, hasArgs: boolean, typ: GoType): GoValue {
    if (!s.t.fields![i]!.exported) this.errorf(`${name} is an unexported field of struct type ${typ.str}`);
    if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
    return s.fields[i];
  }

  evalCall(dot: GoValue, fn: GoFunc, builtin: boolean, node: Node, name: string, args0: readonly Node[] | null, final: GoValue): GoValue {
    // args0[0] is the function's own node; the arguments follow it.
    const nargs = args0 !== null ? args0.length - 1 : 0;
    const params = fn.params;
    const numIn = nargs + (final !== MISSING ? 1 : 0);
    let numFixed = nargs;
    if (fn.variadic) {
      numFixed = params.length - 1;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${params.length - 1} got ${nargs}`);
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }
    if (builtin && (fn.special === "and" || fn.special === "or")) {
      let v: GoValue = undefined;
      for (let i = 1; i <= nargs; i++) {
        v = this.evalArg(dot, params[0]!, args0![i]!);
        if (isTrue(unwrapIface(v)) === (fn.special === "or")) return v;
      }
      if (final !== MISSING) v = this.validateType(final, params[0]!);
      return v;
    }
    const argv: GoValue[] = new Array(numIn);
    let i = 0;
    let ifaces = false;
    for (; i < numFixed && i < nargs; i++) {
      const v = this.evalArg(dot, params[i]!, args0![i + 1]!);
      if (v instanceof GoIface) ifaces = true;
      argv[i] = v;
    }
    if (fn.variadic) {
      const t = params[params.length - 1]!;
      for (; i < nargs; i++) {
        const v = this.evalArg(dot, t, args0![i + 1]!);
        if (v instanceof GoIface) ifaces = true;
        argv[i] = v;
      }
    }
    if (final !== MISSING) {
      let t = params[params.length - 1]!;
      if (fn.variadic && numIn - 1 < numFixed) t = params[numIn - 1]!;
      const v = this.validateType(final, t);
      if (v instanceof GoIface) ifaces = true;
      argv[i] = v;
    }
    // Functions receive an interface's dynamic value; only reflect.Value parameters see the wrapper.
    if (ifaces) {
      for (let j = 0; j < argv.length; j++) {
        const a = argv[j];
        if (a instanceof GoIface) {
          const pt = fn.variadic && j >= params.length - 1 ? params[params.length - 1]! : params[j]!;
          if (pt !== REFLECT_VALUE) argv[j] = a.v;
        }
      }
    }
    if (builtin && fn.special === "call") {
      const callee = nargs === 0 ? reflectString(final) : nodeString(args0![1]!);
      argv.unshift(callee);
    }
    try {
      return fn.call(argv, this);
    } catch (e) {
      if (e instanceof GoCallError) {
        this.at(node);
        this.errorf(`error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }

  validateType(value: GoValue, typ: GoType | null): GoValue {
    if (value === undefined) {
      if (typ === null) return undefined;
      if (canBeNil(typ)) return zeroOf(typ);
      this.errorf(`invalid value; expected ${typ.str}`);
    }
    if (typ === null || typ === REFLECT_VALUE) return value;
    let vt = typeOf(value);
    if (!assignable(vt, typ)) {
      if (value instanceof GoIface && value.v !== undefined) {
        value = value.v;
        vt = typeOf(value);
        if (assignable(vt, typ)) return value;
      }
      if (value instanceof GoPtr && vt.elem !== undefined && assignable(vt.elem, typ)) {
        if (value.target === null) this.errorf(`dereference of nil pointer of type ${typ.str}`);
        return value.target;
      }
      this.errorf(`wrong type for value; expected ${typ.str}; got ${vt.str}`);
    }
    return value;
  }

  evalArg(dot: GoValue, typ: GoType | null, n: Node): GoValue {
    this.at(n);
    switch (n.type) {
      case N.Dot:
        return this.validateType(dot, typ);
      case N.Nil:
        if (typ !== null && canBeNil(typ)) return zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ === null ? "<nil>" : typ.str}`);
      case N.Field:
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case N.Variable:
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case N.Pipe:
        return this.validateType(this.evalPipeline(dot, n), typ);
      case N.Identifier:
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case N.Chain:
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    if (typ === null) throw new TemplateError("runtime error: invalid memory address or nil pointer dereference");
    switch (typ.kind) {
      case Kind.Bool:
        if (n.type === N.Bool) return typ === BOOL ? n.value : new GoBox(typ, n.value);
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case Kind.Complex:
        if (n.type === N.Number && n.isComplex) return new GoBox(typ, n.complex);
        this.errorf(`expected complex; found ${nodeString(n)}`);
      case Kind.Float:
        if (n.type === N.Number && n.isFloat) return typ === FLOAT64 ? n.float64 : new GoBox(typ, n.float64);
        this.errorf(`expected float; found ${nodeString(n)}`);
      case Kind.Int:
        if (n.type === N.Number && n.isInt) return new GoBox(typ, n.int64);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case Kind.Interface:
        return this.evalEmptyInterface(dot, n);
      case Kind.Struct:
        if (typ === REFLECT_VALUE) return this.evalEmptyInterface(dot, n);
        break;
      case Kind.String:
        if (n.type === N.String) return typ === STRING ? n.text : new GoBox(typ, n.text);
        this.errorf(`expected string; found ${nodeString(n)}`);
      case Kind.Uint:
        if (n.type === N.Number && n.isUint) return new GoBox(typ, n.uint64);
        this.errorf(`expected unsigned integer; found ${nodeString(n)}`);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ.str}`);
  }

  evalEmptyInterface(dot: GoValue, n: Node): GoValue {
    this.at(n);
    switch (n.type) {
      case N.Bool:
        return n.value;
      case N.Dot:
        return dot;
      case N.Field:
        return this.evalFieldNode(dot, n, null, MISSING);
      case N.Identifier:
        return this.evalFunction(dot, n, n, null, MISSING);
      case N.Nil:
        this.errorf("evalEmptyInterface: nil (can't happen)");
      case N.Number:
        return this.idealConstant(n);
      case N.String:
        return n.text;
      case N.Variable:
        return this.evalVariableNode(dot, n, null, MISSING);
      case N.Pipe:
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  printValue(n: Node, v: GoValue): void {
    this.at(n);
    if (v instanceof GoPtr && v.target !== null) v = v.target;
    if (v === undefined) {
      this.out += "<no value>";
      return;
    }
    if (v === MISSING) this.errorf("can't print missing value");
    this.out += sprintValue(v);
  }
}

const NIL_DEREF_MSG = "runtime error: invalid memory address or nil pointer dereference";

function methodOf(t: GoType, name: string): Method | undefined {
  const ms = t.methods;
  return ms !== undefined && Object.prototype.hasOwnProperty.call(ms, name) ? ms[name] : undefined;
}

const fieldIndexes = new WeakMap<GoType, Map<string, number>>();

/** The index of a struct field by name (Go's FieldByName finds unexported fields too), or -1. */
function fieldIndex(t: GoType, name: string): number {
  let m = fieldIndexes.get(t);
  if (m === undefined) {
    m = new Map((t.fields ?? []).map((f, i) => [f.name, i]));
    fieldIndexes.set(t, m);
  }
  return m.get(name) ?? -1;
}

function isHexInt(s: string): boolean {
  return s.length > 2 && s[0] === "0" && (s[1] === "x" || s[1] === "X") && !/[pP]/.test(s);
}

/** reflect.Value.String(): the string itself for strings, else "<T Value>". */
function reflectString(v: GoValue): string {
  if (typeof v === "string") return v;
  if (v === undefined) return "<invalid Value>";
  if (kindOf(v) === Kind.String) return (v as GoBox).v as string;
  return `<${typeOf(v).str} Value>`;
}

export function canBeNil(t: GoType): boolean {
  switch (t.kind) {
    case Kind.Func: case Kind.Interface: case Kind.Map: case Kind.Ptr: case Kind.Slice:
      return true;
    case Kind.Struct:
      return t === REFLECT_VALUE;
  }
  return false;
}

/** Follows pointers and interfaces; returns the value and whether a nil stopped it. */
export function indirect(v: GoValue): [GoValue, boolean] {
  for (;;) {
    if (v instanceof GoPtr) {
      if (v.target === null) return [v, true];
      v = v.target;
    } else if (v instanceof GoIface) {
      if (v.v === undefined) return [v, true];
      v = v.v;
    } else return [v, false];
  }
}

/** text/template's truth: non-zero, non-empty, non-nil. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case "string":
      return v.length > 0;
    case "number":
      return v !== 0;
    case "boolean":
      return v;
    case "undefined":
      return false;
  }
  switch (v.t.kind) {
    case Kind.String:
      return (v as GoBox).v !== "";
    case Kind.Int:
    case Kind.Uint:
      return (v as GoBox).v !== 0n;
    case Kind.Float:
      return (v as GoBox).v !== 0;
    case Kind.Bool:
      return (v as GoBox).v as boolean;
    case Kind.Complex: {
      const [re, im] = (v as GoBox).v as [number, number];
      return re !== 0 || im !== 0;
    }
    case Kind.Map:
      return (v as GoMap).size > 0;
    case Kind.Slice:
      return (v as GoSlice).length > 0;
    case Kind.Ptr:
      return (v as GoPtr).target !== null;
    case Kind.Struct:
      return true;
    case Kind.Interface:
      return (v as GoIface).v !== undefined;
  }
  return false;
}

/** ErrorContext: "<parseName>:<line>:<byte col>" and the node's text. */
export function errorContext(n: Node): [string, string] {
  const tree: Tree = n.tree;
  const pos = n.pos;
  const text = tree.text.slice(0, pos);
  const nl = text.lastIndexOf("\n");
  const col = nl < 0 ? utf8Length(text) : utf8Length(text.slice(nl + 1));
  let line = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) line++;
  return [`${tree.parseName}:${line}:${col}`, nodeString(n)];
}

