// Go values as the template executor sees them (a small slice of Go's reflect).
//
// Representation, chosen so the common case allocates nothing:
//   string            -> JS string           float64 -> JS number        bool -> JS boolean
//   invalid (no value, nil interface) -> undefined
//   everything else   -> an object carrying its Go type (GoBox, GoMap, GoSlice, GoPtr, GoStruct, GoTime)
// Integers are bigints inside a GoBox so int64 values print exactly.

export const enum Kind {
  Invalid,
  Bool,
  Int,
  Uint,
  Float,
  Complex,
  String,
  Map,
  Slice,
  Ptr,
  Struct,
  Interface,
  Func,
}

export interface Field {
  readonly name: string;
  readonly type: GoType;
  readonly exported: boolean;
}

/** A method: receiver first, then the arguments; returns a value or throws GoCallError. */
export interface Method {
  readonly params: readonly GoType[];
  readonly result: GoType;
  readonly returnsError: boolean;
  readonly call: (recv: GoValue, args: GoValue[]) => GoValue;
}

export interface GoType {
  readonly kind: Kind;
  /** reflect.Type.String(), as Go prints it in errors and %T. */
  readonly str: string;
  readonly elem?: GoType;
  readonly key?: GoType;
  readonly fields?: readonly Field[];
  /** Methods of the type (value receivers; pointer types see them too). */
  methods?: Record<string, Method>;
  /** Implements fmt.Stringer (printing calls this). */
  stringer?: (v: GoValue) => string;
  /** Implements fmt.GoStringer (%#v calls this). */
  goStringer?: (v: GoValue) => string;
  /** Unnamed types are assignable to named types with the same underlying type. */
  readonly named: boolean;
  /** Underlying type for named types (template.HTML -> string). */
  readonly underlying?: GoType;
}

function basic(kind: Kind, str: string): GoType {
  return { kind, str, named: false };
}

export const INVALID_T = basic(Kind.Invalid, "<nil>");
export const BOOL = basic(Kind.Bool, "bool");
export const INT = basic(Kind.Int, "int");
export const INT32 = basic(Kind.Int, "int32");
export const INT64 = basic(Kind.Int, "int64");
export const UINT = basic(Kind.Uint, "uint");
export const UINT8 = basic(Kind.Uint, "uint8");
export const UINT64 = basic(Kind.Uint, "uint64");
export const FLOAT64 = basic(Kind.Float, "float64");
export const COMPLEX128 = basic(Kind.Complex, "complex128");
export const STRING = basic(Kind.String, "string");
export const ANY = basic(Kind.Interface, "interface {}");
/** Builtins taking reflect.Value accept anything, including no value. */
export const REFLECT_VALUE: GoType = { kind: Kind.Struct, str: "reflect.Value", named: true, fields: [] };
export const ERROR_T = { kind: Kind.Interface, str: "error", named: true } as GoType;

export function named(str: string, underlying: GoType): GoType {
  return { kind: underlying.kind, str, named: true, underlying, elem: underlying.elem, key: underlying.key, fields: underlying.fields };
}

export function mapOf(key: GoType, elem: GoType): GoType {
  return { kind: Kind.Map, str: `map[${key.str}]${elem.str}`, key, elem, named: false };
}

export function sliceOf(elem: GoType): GoType {
  return { kind: Kind.Slice, str: `[]${elem.str}`, elem, named: false };
}

export function ptrTo(elem: GoType): GoType {
  return { kind: Kind.Ptr, str: `*${elem.str}`, elem, named: false };
}

export function structOf(fields: Field[], str?: string): GoType {
  const s = str ?? `struct { ${fields.map((f) => `${f.name} ${f.type.str}`).join("; ")} }`;
  return { kind: Kind.Struct, str: s, fields, named: str !== undefined };
}

export const MAP_SS = mapOf(STRING, STRING);
export const MAP_SA = mapOf(STRING, ANY);

export type GoValue = string | number | boolean | undefined | GoObject;
export type GoObject = GoBox | GoMap | GoSlice | GoPtr | GoStruct | GoIface;

/** A scalar of a type other than string/float64/bool: ints (bigint), named strings, complex. */
export class GoBox {
  constructor(
    readonly t: GoType,
    readonly v: bigint | string | number | boolean | readonly [number, number],
  ) {}
}

const SURROGATE = /[\ud800-\udfff]/;

export class GoMap {
  /** entries null: a nil map. Plain records are read through own-property checks only. */
  constructor(
    readonly t: GoType,
    readonly entries: Readonly<Record<string, GoValue>> | null,
  ) {}
  get(k: string): GoValue | undefined {
    const e = this.entries;
    if (e === null || !Object.prototype.hasOwnProperty.call(e, k)) return undefined;
    return e[k];
  }
  has(k: string): boolean {
    return this.entries !== null && Object.prototype.hasOwnProperty.call(this.entries, k);
  }
  get size(): number {
    return this.entries === null ? 0 : Object.keys(this.entries).length;
  }
  /** Keys in Go's sorted order (bytewise UTF-8 = code point order). */
  sortedKeys(): string[] {
    if (this.entries === null) return [];
    const keys = Object.keys(this.entries);
    // UTF-16 order is code point order unless surrogates meet U+E000..U+FFFF.
    for (const k of keys) if (SURROGATE.test(k)) return keys.sort(compareGoStrings);
    return keys.sort();
  }
}

export class GoSlice {
  /** items null: a nil slice. */
  constructor(
    readonly t: GoType,
    readonly items: readonly GoValue[] | null,
    readonly cap: number = items === null ? 0 : items.length,
  ) {}
  get length(): number {
    return this.items === null ? 0 : this.items.length;
  }
}

export class GoPtr {
  /** target null: a nil pointer. */
  constructor(
    readonly t: GoType,
    readonly target: GoObject | null,
  ) {}
}

export class GoStruct {
  constructor(
    readonly t: GoType,
    readonly fields: readonly GoValue[],
  ) {}
}

/**
 * A value read out of an interface-typed container (an element of map[string]interface{}): Go's
 * reflect keeps it as Kind Interface until a pipeline ends or a function unwraps it, and a few
 * errors say "interface {}" because of that. v undefined: a nil interface.
 */
export class GoIface {
  readonly t = ANY;
  constructor(readonly v: GoValue) {}
}

export function unwrapIface(v: GoValue): GoValue {
  return v instanceof GoIface ? v.v : v;
}

export function typeOf(v: GoValue): GoType {
  switch (typeof v) {
    case "string":
      return STRING;
    case "number":
      return FLOAT64;
    case "boolean":
      return BOOL;
    case "undefined":
      return INVALID_T;
  }
  return v.t;
}

export function kindOf(v: GoValue): Kind {
  switch (typeof v) {
    case "string":
      return Kind.String;
    case "number":
      return Kind.Float;
    case "boolean":
      return Kind.Bool;
    case "undefined":
      return Kind.Invalid;
  }
  return v.t.kind;
}

export function goInt(n: number | bigint, t: GoType = INT): GoBox {
  return new GoBox(t, typeof n === "bigint" ? n : BigInt(n));
}

/** Whether a value of type `from` may be assigned to a parameter of type `to` (Go's AssignableTo, for our types). */
export function assignable(from: GoType, to: GoType): boolean {
  if (from === to || to === ANY || to === REFLECT_VALUE) return true;
  if (from.str === to.str && from.kind === to.kind) return true;
  if (to.kind === Kind.Interface) return to.str === "interface {}" || (to === ERROR_T && false);
  // Identical underlying types and at least one side unnamed.
  if (from.named && to.named) return false;
  const fu = from.underlying ?? from;
  const tu = to.underlying ?? to;
  if (fu.kind !== tu.kind) return false;
  if (fu.kind === Kind.Slice || fu.kind === Kind.Map || fu.kind === Kind.Ptr) return fu.str === tu.str;
  return false;
}

/** Go's zero value of a type (reflect.Zero). */
export function zeroOf(t: GoType): GoValue {
  if (t === REFLECT_VALUE) return undefined; // reflect.Zero(reflect.Value) holds the zero Value
  switch (t.kind) {
    case Kind.String:
      return t === STRING ? "" : new GoBox(t, "");
    case Kind.Float:
      return t === FLOAT64 ? 0 : new GoBox(t, 0);
    case Kind.Bool:
      return t === BOOL ? false : new GoBox(t, false);
    case Kind.Int:
    case Kind.Uint:
      return new GoBox(t, 0n);
    case Kind.Complex:
      return new GoBox(t, [0, 0]);
    case Kind.Map:
      return new GoMap(t, null);
    case Kind.Slice:
      return new GoSlice(t, null);
    case Kind.Ptr:
      return new GoPtr(t, null);
    case Kind.Interface:
      return undefined;
    case Kind.Struct:
      return new GoStruct(t, (t.fields ?? []).map((f) => zeroOf(f.type)));
  }
  return undefined;
}

/** Compares strings the way Go does (bytewise UTF-8, which is code point order). */
export function compareGoStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (astral code points) sort after U+E000..U+FFFF in code point order.
      const xs = x >= 0xd800 && x <= 0xdfff;
      const ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length;
}

/** Length in UTF-8 bytes. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8; invalid bytes become U+FFFD (what Go's JSON encoder prints for them). */
export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** An error returned by a function called from a template ("error calling X: <message>"). */
export class GoCallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GoCallError";
  }
}

/** A Go runtime panic inside a called function (recovered by text/template's safeCall). */
export const NIL_DEREF = "runtime error: invalid memory address or nil pointer dereference";
