// text/template's builtin functions (Go 1.26 text/template/funcs.go): and or not len index slice
// print printf println html js urlquery call eq ne lt le gt ge, with Go's error texts.

import { indirect, isTrue, type GoFunc } from "./exec.ts";
import { sprint, sprintf, sprintln, sprintValue } from "./fmt.ts";
import { isPrint } from "./strconv.ts";
import {
  ANY, GoBox, GoCallError, GoIface, GoMap, unwrapIface, GoPtr, GoSlice, GoStruct, INT, Kind, kindOf, REFLECT_VALUE, STRING, typeOf, UINT8, utf8Bytes,
  fromUtf8, zeroOf, compareGoStrings, assignable, type GoValue,
} from "./value.ts";

const RV = REFLECT_VALUE;

function fn(params: GoFunc["params"], variadic: boolean, call: GoFunc["call"], special?: GoFunc["special"]): GoFunc {
  return { params, variadic, call, special };
}

function fail(msg: string): never {
  throw new GoCallError(msg);
}

// reflect panics on Type() of the zero Value; safeCall turns that into the call's error.
const ZERO_VALUE_TYPE = "reflect: call of reflect.Value.Type on zero Value";

function typeStr(v: GoValue): string {
  if (v === undefined) fail(ZERO_VALUE_TYPE);
  return typeOf(v).str;
}

function indexArg(index: GoValue, cap: number): number {
  let x: bigint;
  const k = kindOf(index);
  if (k === Kind.Int || k === Kind.Uint) x = (index as GoBox).v as bigint;
  else if (k === Kind.Invalid) return fail("cannot index slice/array with nil");
  else return fail(`cannot index slice/array with type ${typeOf(index).str}`);
  if (x < 0n || x > BigInt(cap)) fail(`index out of range: ${x}`);
  return Number(x);
}

function prepareArg(value: GoValue, argType: GoValue extends never ? never : import("./value.ts").GoType): GoValue {
  if (value === undefined) {
    if (argType.kind !== Kind.Map && argType.kind !== Kind.Slice && argType.kind !== Kind.Ptr && argType.kind !== Kind.Interface) {
      fail(`value is nil; should be of type ${argType.str}`);
    }
    return zeroOf(argType);
  }
  if (assignable(typeOf(value), argType)) return value;
  return fail(`value has type ${typeOf(value).str}; should be ${argType.str}`);
}

function index(args: GoValue[]): GoValue {
  let item = unwrapIface(args[0]);
  if (item === undefined) fail("index of untyped nil");
  for (let i = 1; i < args.length; i++) {
    const idx = unwrapIface(args[i]);
    const [it, isNil] = indirect(item);
    if (isNil) fail("index of nil pointer");
    item = it;
    switch (kindOf(item)) {
      case Kind.String: {
        const s = typeof item === "string" ? item : ((item as GoBox).v as string);
        const b = utf8Bytes(s);
        const x = indexArg(idx, b.length);
        if (x >= b.length) fail("reflect: string index out of range");
        item = new GoBox(UINT8, BigInt(b[x]!));
        break;
      }
      case Kind.Slice: {
        const sl = item as GoSlice;
        const x = indexArg(idx, sl.length);
        if (x >= sl.length) fail("reflect: slice index out of range");
        item = sl.items![x];
        break;
      }
      case Kind.Map: {
        const m = item as GoMap;
        const key = prepareArg(idx, m.t.key!);
        const k = typeof key === "string" ? key : String((key as GoBox).v);
        item = m.has(k) ? m.get(k) : zeroOf(m.t.elem!);
        if (m.t.elem!.kind === Kind.Interface) item = new GoIface(item);
        break;
      }
      default:
        fail(`can't index item of type ${typeOf(item).str}`);
    }
  }
  return item;
}

function slice(args: GoValue[]): GoValue {
  let item = unwrapIface(args[0]);
  if (item === undefined) fail("slice of untyped nil");
  const [it, isNil] = indirect(item);
  if (isNil) fail("slice of nil pointer");
  item = it;
  const idxs = args.slice(1);
  if (idxs.length > 3) fail(`too many slice indexes: ${idxs.length}`);
  let cap: number;
  let len: number;
  let bytes: Uint8Array | null = null;
  switch (kindOf(item)) {
    case Kind.String:
      if (idxs.length === 3) fail("cannot 3-index slice a string");
      bytes = utf8Bytes(typeof item === "string" ? item : ((item as GoBox).v as string));
      cap = len = bytes.length;
      break;
    case Kind.Slice:
      cap = (item as GoSlice).cap;
      len = (item as GoSlice).length;
      break;
    default:
      return fail(`can't slice item of type ${typeOf(item).str}`);
  }
  const idx = [0, len, 0];
  for (let i = 0; i < idxs.length; i++) idx[i] = indexArg(idxs[i], cap);
  if (idx[0]! > idx[1]!) fail(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (bytes !== null) {
    const s = fromUtf8(bytes.subarray(idx[0], idx[1]));
    return typeof item === "string" ? s : new GoBox((item as GoBox).t, s);
  }
  const sl = item as GoSlice;
  if (idx[1]! > len) {
    // Reslicing up to the capacity exposes elements we do not hold: Go would show the backing array.
    return fail("reflect: slice index out of range");
  }
  if (idxs.length < 3) return new GoSlice(sl.t, (sl.items ?? []).slice(idx[0], idx[1]), cap - idx[0]!);
  if (idx[1]! > idx[2]!) fail(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  return new GoSlice(sl.t, (sl.items ?? []).slice(idx[0], idx[1]), idx[2]! - idx[0]!);
}

function length(args: GoValue[]): GoValue {
  const [item, isNil] = indirect(args[0]);
  if (isNil) fail("len of nil pointer");
  switch (kindOf(item)) {
    case Kind.String:
      return new GoBox(INT, BigInt(utf8Bytes(typeof item === "string" ? item : ((item as GoBox).v as string)).length));
    case Kind.Slice:
      return new GoBox(INT, BigInt((item as GoSlice).length));
    case Kind.Map:
      return new GoBox(INT, BigInt((item as GoMap).size));
  }
  return fail(`len of type ${typeStr(item)}`);
}

function call(args: GoValue[]): GoValue {
  const name = args[0] as string;
  const f = unwrapIface(args[1]);
  if (f === undefined) fail("call of nil");
  return fail(`non-function ${name} of type ${typeOf(f).str}`);
}

// ---- comparisons

const enum BK { Invalid, Bool, Complex, Int, Float, String, Uint }

function basicKind(v: GoValue): BK {
  switch (kindOf(v)) {
    case Kind.Bool: return BK.Bool;
    case Kind.Int: return BK.Int;
    case Kind.Uint: return BK.Uint;
    case Kind.Float: return BK.Float;
    case Kind.Complex: return BK.Complex;
    case Kind.String: return BK.String;
  }
  return BK.Invalid;
}

function raw(v: GoValue): unknown {
  return typeof v === "object" && v instanceof GoBox ? v.v : v;
}

function isNilValue(v: GoValue): boolean {
  if (v === undefined) return true;
  if (v instanceof GoPtr) return v.target === null;
  if (v instanceof GoMap) return v.entries === null;
  if (v instanceof GoSlice) return v.items === null;
  return false;
}

function eq(args0: GoValue[]): GoValue {
  const args = args0.map(unwrapIface);
  const a1 = args[0];
  if (args.length < 2) fail("missing argument for comparison");
  const k1 = basicKind(a1);
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    const k2 = basicKind(a);
    let truth = false;
    if (k1 !== k2) {
      if (k1 === BK.Int && k2 === BK.Uint) truth = (raw(a1) as bigint) >= 0n && raw(a1) === raw(a);
      else if (k1 === BK.Uint && k2 === BK.Int) truth = (raw(a) as bigint) >= 0n && raw(a1) === raw(a);
      else if (a1 !== undefined && a !== undefined) {
        fail(`incompatible types for comparison: ${typeOf(a1).str} and ${typeOf(a).str}`);
      }
    } else {
      switch (k1) {
        case BK.Bool: case BK.Int: case BK.Uint: case BK.String:
          truth = raw(a1) === raw(a);
          break;
        case BK.Float:
          truth = (raw(a1) as number) === (raw(a) as number);
          break;
        case BK.Complex: {
          const [r1, i1] = raw(a1) as [number, number];
          const [r2, i2] = raw(a) as [number, number];
          truth = r1 === r2 && i1 === i2;
          break;
        }
        default: {
          const c1 = kindOf(a1);
          const c2 = kindOf(a);
          if (c1 !== c2 && c1 !== Kind.Invalid && c2 !== Kind.Invalid) {
            fail(`non-comparable types ${sprintValue(a1)}: ${typeOf(a1).str}, ${typeOf(a).str}: ${sprintValue(a)}`);
          }
          if (isNilValue(a1) || isNilValue(a)) truth = isNilValue(a) === isNilValue(a1);
          else {
            if (c2 === Kind.Map || c2 === Kind.Slice) fail(`non-comparable type ${sprintValue(a)}: ${typeOf(a).str}`);
            truth = goEqual(a1, a);
          }
        }
      }
    }
    if (truth) return true;
  }
  return false;
}

/** Go's == on interface values of comparable types: structs field by field, pointers by identity. */
function goEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a.t.str !== b.t.str) return false;
  if (a instanceof GoBox && b instanceof GoBox) {
    if (Array.isArray(a.v)) return a.v[0] === (b.v as readonly number[])[0] && a.v[1] === (b.v as readonly number[])[1];
    return a.v === b.v;
  }
  if (a instanceof GoStruct && b instanceof GoStruct) return a.fields.every((f, i) => goEqual(f, b.fields[i]));
  if (a instanceof GoPtr && b instanceof GoPtr) return a.target === b.target;
  return false;
}

function lt(args: GoValue[]): GoValue {
  const a1 = unwrapIface(args[0]);
  const a2 = unwrapIface(args[1]);
  const k1 = basicKind(a1);
  if (k1 === BK.Invalid) fail("invalid type for comparison");
  const k2 = basicKind(a2);
  if (k2 === BK.Invalid) fail("invalid type for comparison");
  if (k1 !== k2) {
    if (k1 === BK.Int && k2 === BK.Uint) return (raw(a1) as bigint) < 0n || (raw(a1) as bigint) < (raw(a2) as bigint);
    if (k1 === BK.Uint && k2 === BK.Int) return (raw(a2) as bigint) >= 0n && (raw(a1) as bigint) < (raw(a2) as bigint);
    return fail(`incompatible types for comparison: ${typeOf(a1).str} and ${typeOf(a2).str}`);
  }
  switch (k1) {
    case BK.Bool:
    case BK.Complex:
      return fail("invalid type for comparison");
    case BK.Float:
      return (raw(a1) as number) < (raw(a2) as number);
    case BK.Int:
    case BK.Uint:
      return (raw(a1) as bigint) < (raw(a2) as bigint);
    case BK.String:
      return compareGoStrings(raw(a1) as string, raw(a2) as string) < 0;
  }
  return fail("invalid type for comparison");
}

function le(args: GoValue[]): boolean {
  return (lt(args) as boolean) || (eq(args) as boolean);
}

// ---- escapers

function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  const printable = args.map((a) => {
    if (a instanceof GoPtr && a.target !== null) return a.target;
    if (a === undefined) return "<no value>";
    return a;
  });
  return sprint(printable);
}

function htmlEscape(s: string): string {
  if (!/['"&<>\0]/.test(s)) return s;
  return s.replace(/['"&<>\0]/g, (c) => {
    switch (c) {
      case "\0": return "\uFFFD";
      case '"': return "&#34;";
      case "'": return "&#39;";
      case "&": return "&amp;";
      case "<": return "&lt;";
      default: return "&gt;";
    }
  });
}

function jsEscape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; ) {
    const r = s.codePointAt(i)!;
    const w = r > 0xffff ? 2 : 1;
    const ch = s.slice(i, i + w);
    i += w;
    if (r < 0x80) {
      switch (ch) {
        case "\\": out += "\\\\"; continue;
        case "'": out += "\\'"; continue;
        case '"': out += '\\"'; continue;
        case "<": out += "\\u003C"; continue;
        case ">": out += "\\u003E"; continue;
        case "&": out += "\\u0026"; continue;
        case "=": out += "\\u003D"; continue;
      }
      if (r < 0x20) out += "\\u00" + r.toString(16).toUpperCase().padStart(2, "0");
      else out += ch;
    } else if (r >= 0xd800 && r <= 0xdfff) {
      out += "\\uFFFD";
    } else if (isPrint(r)) {
      out += ch;
    } else {
      out += "\\u" + r.toString(16).toUpperCase().padStart(4, "0");
    }
  }
  return out;
}

/** url.QueryEscape */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of utf8Bytes(s)) {
    if ((b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e) {
      out += String.fromCharCode(b);
    } else if (b === 0x20) out += "+";
    else out += "%" + "0123456789ABCDEF"[b >> 4] + "0123456789ABCDEF"[b & 15];
  }
  return out;
}

export const BUILTINS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
  ["and", fn([RV, RV], true, () => undefined, "and")],
  ["or", fn([RV, RV], true, () => undefined, "or")],
  ["call", fn([RV, RV], true, call, "call")],
  ["html", fn([ANY], true, (a) => htmlEscape(evalArgs(a)))],
  ["index", fn([RV, RV], true, index)],
  ["slice", fn([RV, RV], true, slice)],
  ["js", fn([ANY], true, (a) => jsEscape(evalArgs(a)))],
  ["len", fn([RV], false, length)],
  ["not", fn([RV], false, (a) => !isTrue(unwrapIface(a[0])))],
  ["print", fn([ANY], true, (a) => sprint(a))],
  ["printf", fn([STRING, ANY], true, (a) => sprintf(a[0] as string, a.slice(1)))],
  ["println", fn([ANY], true, (a) => sprintln(a))],
  ["urlquery", fn([ANY], true, (a) => queryEscape(evalArgs(a)))],
  ["eq", fn([RV, RV], true, eq)],
  ["ge", fn([RV, RV], false, (a) => !(lt(a) as boolean))],
  ["gt", fn([RV, RV], false, (a) => !le(a))],
  ["le", fn([RV, RV], false, le)],
  ["lt", fn([RV, RV], false, lt)],
  ["ne", fn([RV, RV], false, (a) => !(eq(a) as boolean))],
]);
