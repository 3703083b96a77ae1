// Go's fmt (Go 1.26 fmt/print.go and format.go) over template values: Sprint, Sprintln, Sprintf with
// flags (+ - # 0 space), width and precision (also `*` and `[n]` argument indexes) and the verbs
// v t d b o O x X c q U e E f F g G s T, plus Go's error forms (%!d(string=x), %!s(MISSING),
// %!(EXTRA ...), %!(NOVERB), %!(BADWIDTH), %!(BADPREC), %!(BADINDEX)).
//
// Not reproducible and printed as a fixed placeholder: pointer addresses (%p, pointers nested in
// slices, maps or structs), which Go prints as 0xc000... machine addresses.

import { canBackquote, formatFloat, isPrint, quote, quoteRune, quoteToASCII } from "./strconv.ts";
import {
  GoBox, GoIface, GoMap, GoPtr, GoSlice, GoStruct, Kind, kindOf, typeOf, utf8Bytes, type GoValue,
} from "./value.ts";

const POINTER_PLACEHOLDER = "0xc000000000";

class Printer {
  buf = "";
  // flags
  widPresent = false;
  precPresent = false;
  minus = false;
  plus = false;
  sharp = false;
  space = false;
  zero = false;
  plusV = false;
  sharpV = false;
  wid = 0;
  prec = 0;
  erroring = false;
  reordered = false;
  goodArgNum = true;

  clearflags(): void {
    this.widPresent = this.precPresent = this.minus = this.plus = this.sharp = this.space = this.zero = false;
    this.plusV = this.sharpV = false;
    this.wid = this.prec = 0;
  }

  writePadding(n: number): void {
    if (n <= 0) return;
    const c = this.zero && !this.minus ? "0" : " ";
    this.buf += c.repeat(n);
  }

  padString(s: string): void {
    if (!this.widPresent || this.wid === 0) {
      this.buf += s;
      return;
    }
    const width = this.wid - runeCount(s);
    if (!this.minus) {
      this.writePadding(width);
      this.buf += s;
    } else {
      this.buf += s;
      this.writePadding(width);
    }
  }

  fmtBoolean(v: boolean): void {
    this.padString(v ? "true" : "false");
  }

  fmtUnicode(u: bigint): void {
    let prec = 4;
    if (this.precPresent && this.prec > 4) prec = this.prec;
    let s = "";
    if (this.sharp && u <= 0x10ffffn && u >= 0n && isPrint(Number(u))) s = " '" + String.fromCodePoint(Number(u)) + "'";
    const hex = (u < 0n ? u + (1n << 64n) : u).toString(16).toUpperCase();
    s = "U+" + hex.padStart(prec, "0") + s;
    const oldZero = this.zero;
    this.zero = false;
    this.padString(s);
    this.zero = oldZero;
  }

  fmtInteger(v: bigint, base: number, signed: boolean, verb: string, upper: boolean): void {
    let u = signed ? v : v < 0n ? v + (1n << 64n) : v;
    const negative = signed && u < 0n;
    if (negative) u = -u;
    let prec = 0;
    if (this.precPresent) {
      prec = this.prec;
      if (prec === 0 && u === 0n) {
        const oldZero = this.zero;
        this.zero = false;
        this.writePadding(this.wid);
        this.zero = oldZero;
        return;
      }
    } else if (this.zero && !this.minus && this.widPresent) {
      prec = this.wid;
      if (negative || this.plus || this.space) prec--;
    }
    let digits = u.toString(base);
    if (upper) digits = digits.toUpperCase();
    if (digits.length < prec) digits = "0".repeat(prec - digits.length) + digits;
    if (this.sharp) {
      if (base === 2) digits = "0b" + digits;
      else if (base === 8) {
        if (digits[0] !== "0") digits = "0" + digits;
      } else if (base === 16) digits = (upper ? "0X" : "0x") + digits;
    }
    if (verb === "O") digits = "0o" + digits;
    if (negative) digits = "-" + digits;
    else if (this.plus) digits = "+" + digits;
    else if (this.space) digits = " " + digits;
    const oldZero = this.zero;
    this.zero = false;
    this.padString(digits);
    this.zero = oldZero;
  }

  truncateString(s: string): string {
    if (this.precPresent) {
      let n = this.prec;
      for (let i = 0; i < s.length; ) {
        n--;
        if (n < 0) return s.slice(0, i);
        const c = s.charCodeAt(i);
        i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
      }
    }
    return s;
  }

  fmtS(s: string): void {
    this.padString(this.truncateString(s));
  }

  fmtSx(s: string, upper: boolean): void {
    const b = utf8Bytes(s);
    let length = b.length;
    if (this.precPresent && this.prec < length) length = this.prec;
    let width = 2 * length;
    if (width > 0) {
      if (this.space) {
        if (this.sharp) width *= 2;
        width += length - 1;
      } else if (this.sharp) width += 2;
    } else {
      if (this.widPresent) this.writePadding(this.wid);
      return;
    }
    if (this.widPresent && this.wid > width && !this.minus) this.writePadding(this.wid - width);
    const digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    const x = upper ? "X" : "x";
    let out = "";
    if (this.sharp) out += "0" + x;
    for (let i = 0; i < length; i++) {
      if (this.space && i > 0) {
        out += " ";
        if (this.sharp) out += "0" + x;
      }
      const c = b[i]!;
      out += digits[c >> 4]! + digits[c & 15]!;
    }
    this.buf += out;
    if (this.widPresent && this.wid > width && this.minus) this.writePadding(this.wid - width);
  }

  fmtQ(s: string): void {
    s = this.truncateString(s);
    if (this.sharp && canBackquote(s)) {
      this.padString("`" + s + "`");
      return;
    }
    this.padString(this.plus ? quoteToASCII(s) : quote(s));
  }

  fmtC(c: bigint): void {
    let r = c > 0x10ffffn || c < 0n ? 0xfffd : Number(c);
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd;
    this.padString(String.fromCodePoint(r));
  }

  fmtQc(c: bigint): void {
    const r = c > 0x10ffffn || c < 0n ? 0xfffd : Number(c);
    this.padString(quoteRune(r, this.plus));
  }

  fmtFloatRaw(v: number, verb: string, prec: number): void {
    if (this.precPresent) prec = this.prec;
    let num = formatFloat(v, verb, prec);
    if (num[0] === "-" || num[0] === "+") {
      // keep
    } else num = "+" + num;
    if (this.space && num[0] === "+" && !this.plus) num = " " + num.slice(1);
    if (num[1] === "I" || num[1] === "N") {
      const oldZero = this.zero;
      this.zero = false;
      if (num[1] === "N" && !this.space && !this.plus) num = num.slice(1);
      this.padString(num);
      this.zero = oldZero;
      return;
    }
    if (this.sharp && verb !== "b") {
      let digits = 0;
      if (verb === "v" || verb === "g" || verb === "G" || verb === "x") {
        digits = prec;
        if (digits === -1) digits = 6;
      }
      let tail = "";
      let hasDecimalPoint = false;
      let sawNonzeroDigit = false;
      let body = num;
      for (let i = 1; i < body.length; i++) {
        const ch = body[i]!;
        if (ch === ".") hasDecimalPoint = true;
        else if (ch === "p" || ch === "P") {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else if ((ch === "e" || ch === "E") && verb !== "x" && verb !== "X") {
          tail = body.slice(i);
          body = body.slice(0, i);
          break;
        } else {
          if (ch !== "0") sawNonzeroDigit = true;
          if (sawNonzeroDigit) digits--;
        }
      }
      if (!hasDecimalPoint) {
        if (body.length === 2 && body[1] === "0") digits--;
        body += ".";
      }
      while (digits > 0) {
        body += "0";
        digits--;
      }
      num = body + tail;
    }
    if (this.plus || num[0] !== "+") {
      if (this.zero && !this.minus && this.widPresent && this.wid > num.length) {
        this.buf += num[0];
        this.writePadding(this.wid - num.length);
        this.buf += num.slice(1);
        return;
      }
      this.padString(num);
      return;
    }
    this.padString(num.slice(1));
  }

  // ---- pp level

  badVerb(verb: string, arg: GoValue, isArg: boolean): void {
    this.erroring = true;
    this.buf += "%!" + verb + "(";
    if (isArg && arg === undefined) this.buf += "<nil>";
    else if (arg === undefined) this.buf += "<nil>";
    else {
      this.buf += typeOf(arg).str + "=";
      if (isArg) this.printArg(arg, "v");
      else this.printValue(arg, "v", 0);
    }
    this.buf += ")";
    this.erroring = false;
  }

  fmtBool(v: boolean, verb: string, arg: GoValue, isArg: boolean): void {
    if (verb === "t" || verb === "v") this.fmtBoolean(v);
    else this.badVerb(verb, arg, isArg);
  }

  fmtIntegerVerb(v: bigint, signed: boolean, verb: string, arg: GoValue, isArg: boolean): void {
    switch (verb) {
      case "v":
        if (this.sharpV && !signed) {
          const sharp = this.sharp;
          this.sharp = true;
          this.fmtInteger(v, 16, false, "v", false);
          this.sharp = sharp;
        } else this.fmtInteger(v, 10, signed, verb, false);
        return;
      case "d": this.fmtInteger(v, 10, signed, verb, false); return;
      case "b": this.fmtInteger(v, 2, signed, verb, false); return;
      case "o": case "O": this.fmtInteger(v, 8, signed, verb, false); return;
      case "x": this.fmtInteger(v, 16, signed, verb, false); return;
      case "X": this.fmtInteger(v, 16, signed, verb, true); return;
      case "c": this.fmtC(v); return;
      case "q": this.fmtQc(v); return;
      case "U": this.fmtUnicode(v); return;
    }
    this.badVerb(verb, arg, isArg);
  }

  fmtFloat(v: number, verb: string, arg: GoValue, isArg: boolean): void {
    switch (verb) {
      case "v": this.fmtFloatRaw(v, "g", -1); return;
      case "b": case "g": case "G": case "x": case "X": this.fmtFloatRaw(v, verb, -1); return;
      case "f": case "e": case "E": this.fmtFloatRaw(v, verb, 6); return;
      case "F": this.fmtFloatRaw(v, "f", 6); return;
    }
    this.badVerb(verb, arg, isArg);
  }

  fmtComplex(re: number, im: number, verb: string, arg: GoValue, isArg: boolean): void {
    switch (verb) {
      case "v": case "b": case "g": case "G": case "x": case "X": case "f": case "F": case "e": case "E": {
        const oldPlus = this.plus;
        this.buf += "(";
        this.fmtFloat(re, verb, arg, isArg);
        this.plus = true;
        this.fmtFloat(im, verb, arg, isArg);
        this.buf += "i)";
        this.plus = oldPlus;
        return;
      }
    }
    this.badVerb(verb, arg, isArg);
  }

  fmtString(s: string, verb: string, arg: GoValue, isArg: boolean): void {
    switch (verb) {
      case "v":
        if (this.sharpV) this.fmtQ(s);
        else this.fmtS(s);
        return;
      case "s": this.fmtS(s); return;
      case "x": this.fmtSx(s, false); return;
      case "X": this.fmtSx(s, true); return;
      case "q": this.fmtQ(s); return;
    }
    this.badVerb(verb, arg, isArg);
  }

  fmtPointer(v: GoValue, verb: string, isArg: boolean): void {
    const isNil = v instanceof GoPtr ? v.target === null : v instanceof GoMap ? v.entries === null : v instanceof GoSlice ? v.items === null : false;
    if (!(v instanceof GoPtr || v instanceof GoMap || v instanceof GoSlice)) {
      this.badVerb(verb, v, isArg);
      return;
    }
    switch (verb) {
      case "v":
        if (this.sharpV) {
          this.buf += "(" + typeOf(v).str + ")(" + (isNil ? "nil" : POINTER_PLACEHOLDER) + ")";
        } else if (isNil) this.padString("<nil>");
        else this.buf += POINTER_PLACEHOLDER;
        return;
      case "p":
        this.buf += isNil ? "0x0" : POINTER_PLACEHOLDER;
        return;
      case "b": case "o": case "d": case "x": case "X":
        this.fmtIntegerVerb(0n, false, verb, v, isArg);
        return;
    }
    this.badVerb(verb, v, isArg);
  }

  /** Stringer handling (handleMethods); true if printed. */
  handleMethods(v: GoValue, verb: string): boolean {
    if (this.erroring) return false;
    if (this.sharpV) {
      if (typeof v !== "object") return false;
      let t = v.t;
      let recv: GoValue = v;
      if (t.goStringer === undefined && t.kind === Kind.Ptr && t.elem?.goStringer !== undefined) {
        if ((v as GoPtr).target === null) {
          this.buf += "<nil>";
          return true;
        }
        t = t.elem;
        recv = (v as GoPtr).target!;
      }
      if (t.goStringer === undefined) return false;
      this.fmtS(t.goStringer(recv));
      return true;
    }
    if (verb !== "v" && verb !== "s" && verb !== "x" && verb !== "X" && verb !== "q") return false;
    if (typeof v !== "object") return false;
    let t = v.t;
    let recv: GoValue = v;
    if (t.stringer === undefined && t.kind === Kind.Ptr && t.elem?.stringer !== undefined) {
      // Pointer method sets include value methods; a nil pointer prints <nil> (catchPanic).
      const target = (v as GoPtr).target;
      if (target === null) {
        this.buf += "<nil>";
        return true;
      }
      t = t.elem;
      recv = target;
    }
    if (t.stringer === undefined) return false;
    this.fmtString(t.stringer(recv), verb, v, true);
    return true;
  }

  printArg(arg: GoValue, verb: string): void {
    if (arg === undefined) {
      if (verb === "T" || verb === "v") this.padString("<nil>");
      else this.badVerb(verb, undefined, true);
      return;
    }
    if (verb === "T") {
      this.fmtS(typeOf(arg).str);
      return;
    }
    if (verb === "p") {
      this.fmtPointer(arg, "p", true);
      return;
    }
    switch (typeof arg) {
      case "string":
        this.fmtString(arg, verb, arg, true);
        return;
      case "number":
        this.fmtFloat(arg, verb, arg, true);
        return;
      case "boolean":
        this.fmtBool(arg, verb, arg, true);
        return;
    }
    if (arg instanceof GoBox && !arg.t.named && (arg.t.kind === Kind.Int || arg.t.kind === Kind.Uint)) {
      this.fmtIntegerVerb(arg.v as bigint, arg.t.kind === Kind.Int, verb, arg, true);
      return;
    }
    if (!this.handleMethods(arg, verb)) this.printValue(arg, verb, 0, true);
  }

  printValue(v: GoValue, verb: string, depth: number, isArg = false): void {
    if (depth > 0 && v !== undefined && this.handleMethods(v, verb)) return;
    const k = kindOf(v);
    switch (k) {
      case Kind.Invalid:
        // Only reachable for nil interfaces inside containers.
        if (this.sharpV) this.buf += "interface {}(nil)";
        else this.buf += "<nil>";
        return;
      case Kind.Bool:
        this.fmtBool(typeof v === "boolean" ? v : ((v as GoBox).v as boolean), verb, v, isArg);
        return;
      case Kind.Int:
      case Kind.Uint:
        this.fmtIntegerVerb((v as GoBox).v as bigint, k === Kind.Int, verb, v, isArg);
        return;
      case Kind.Float:
        this.fmtFloat(typeof v === "number" ? v : ((v as GoBox).v as number), verb, v, isArg);
        return;
      case Kind.Complex: {
        const [re, im] = (v as GoBox).v as [number, number];
        this.fmtComplex(re, im, verb, v, isArg);
        return;
      }
      case Kind.String:
        this.fmtString(typeof v === "string" ? v : ((v as GoBox).v as string), verb, v, isArg);
        return;
      case Kind.Map: {
        const m = v as GoMap;
        if (this.sharpV) {
          this.buf += m.t.str;
          if (m.entries === null) {
            this.buf += "(nil)";
            return;
          }
          this.buf += "{";
        } else this.buf += "map[";
        const keys = m.sortedKeys();
        for (let i = 0; i < keys.length; i++) {
          if (i > 0) this.buf += this.sharpV ? ", " : " ";
          this.printValue(keys[i]!, verb, depth + 1);
          this.buf += ":";
          this.printValue(m.get(keys[i]!), verb, depth + 1);
        }
        this.buf += this.sharpV ? "}" : "]";
        return;
      }
      case Kind.Struct: {
        const s = v as GoStruct;
        if (this.sharpV) this.buf += s.t.str;
        this.buf += "{";
        const fields = s.t.fields ?? [];
        for (let i = 0; i < fields.length; i++) {
          if (i > 0) this.buf += this.sharpV ? ", " : " ";
          if (this.plusV || this.sharpV) this.buf += fields[i]!.name + ":";
          this.printValue(s.fields[i], verb, depth + 1);
        }
        this.buf += "}";
        return;
      }
      case Kind.Slice: {
        const s = v as GoSlice;
        if (this.sharpV) {
          this.buf += s.t.str;
          if (s.items === null) {
            this.buf += "(nil)";
            return;
          }
          this.buf += "{";
          for (let i = 0; i < s.length; i++) {
            if (i > 0) this.buf += ", ";
            this.printValue(s.items[i], verb, depth + 1);
          }
          this.buf += "}";
        } else {
          this.buf += "[";
          for (let i = 0; i < s.length; i++) {
            if (i > 0) this.buf += " ";
            this.printValue(s.items![i], verb, depth + 1);
          }
          this.buf += "]";
        }
        return;
      }
      case Kind.Interface: {
        const inner = (v as GoIface).v;
        if (inner === undefined) this.buf += this.sharpV ? "interface {}(nil)" : "<nil>";
        else this.printValue(inner, verb, depth + 1);
        return;
      }
      case Kind.Ptr: {
        const p = v as GoPtr;
        if (depth === 0 && p.target !== null) {
          const ek = kindOf(p.target);
          if (ek === Kind.Struct || ek === Kind.Map || ek === Kind.Slice) {
            this.buf += "&";
            this.printValue(p.target, verb, depth + 1);
            return;
          }
        }
        this.fmtPointer(p, verb, isArg);
        return;
      }
    }
    this.buf += "?" + typeOf(v).str + "?";
  }

  doPrint(args: readonly GoValue[]): void {
    let prevString = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const isString = a !== undefined && kindOf(a) === Kind.String;
      if (i > 0 && !isString && !prevString) this.buf += " ";
      this.printArg(a, "v");
      prevString = isString;
    }
  }

  doPrintln(args: readonly GoValue[]): void {
    for (let i = 0; i < args.length; i++) {
      if (i > 0) this.buf += " ";
      this.printArg(args[i], "v");
    }
    this.buf += "\n";
  }

  argNumber(argNum: number, format: string, i: number, numArgs: number): [number, number, boolean] {
    if (format.length <= i || format[i] !== "[") return [argNum, i, false];
    this.reordered = true;
    const [index, wid, ok] = parseArgNumber(format.slice(i));
    if (ok && index >= 0 && index < numArgs) return [index, i + wid, true];
    this.goodArgNum = false;
    return [argNum, i + wid, ok];
  }

  doPrintf(format: string, a: readonly GoValue[]): void {
    const end = format.length;
    let argNum = 0;
    let afterIndex = false;
    this.reordered = false;
    formatLoop: for (let i = 0; i < end; ) {
      this.goodArgNum = true;
      const lasti = i;
      while (i < end && format[i] !== "%") i++;
      if (i > lasti) this.buf += format.slice(lasti, i);
      if (i >= end) break;
      i++;
      this.clearflags();
      simple: for (; i < end; i++) {
        const c = format[i]!;
        switch (c) {
          case "#": this.sharp = true; break;
          case "0": this.zero = true; break;
          case "+": this.plus = true; break;
          case "-": this.minus = true; break;
          case " ": this.space = true; break;
          default:
            if (c >= "a" && c <= "z" && argNum < a.length) {
              if (c === "v" || c === "w") {
                this.sharpV = this.sharp;
                this.sharp = false;
                this.plusV = this.plus;
                this.plus = false;
              }
              if (c === "w") this.badVerb("w", a[argNum], true);
              else this.printArg(a[argNum], c);
              argNum++;
              i++;
              continue formatLoop;
            }
            break simple;
        }
      }
      [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
      if (i < end && format[i] === "*") {
        i++;
        [this.wid, this.widPresent, argNum] = intFromArg(a, argNum);
        if (!this.widPresent) this.buf += "%!(BADWIDTH)";
        if (this.wid < 0) {
          this.wid = -this.wid;
          this.minus = true;
          this.zero = false;
        }
        afterIndex = false;
      } else {
        [this.wid, this.widPresent, i] = parsenum(format, i, end);
        if (afterIndex && this.widPresent) this.goodArgNum = false;
      }
      if (i + 1 < end && format[i] === ".") {
        i++;
        if (afterIndex) this.goodArgNum = false;
        [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
        if (i < end && format[i] === "*") {
          i++;
          [this.prec, this.precPresent, argNum] = intFromArg(a, argNum);
          if (this.prec < 0) {
            this.prec = 0;
            this.precPresent = false;
          }
          if (!this.precPresent) this.buf += "%!(BADPREC)";
          afterIndex = false;
        } else {
          [this.prec, this.precPresent, i] = parsenum(format, i, end);
          if (!this.precPresent) {
            this.prec = 0;
            this.precPresent = true;
          }
        }
      }
      if (!afterIndex) [argNum, i, afterIndex] = this.argNumber(argNum, format, i, a.length);
      if (i >= end) {
        this.buf += "%!(NOVERB)";
        break;
      }
      const cp = format.codePointAt(i)!;
      const verb = String.fromCodePoint(cp);
      i += verb.length;
      if (verb === "%") this.buf += "%";
      else if (!this.goodArgNum) this.buf += "%!" + verb + "(BADINDEX)";
      else if (argNum >= a.length) this.buf += "%!" + verb + "(MISSING)";
      else {
        if (verb === "v" || verb === "w") {
          this.sharpV = this.sharp;
          this.sharp = false;
          this.plusV = this.plus;
          this.plus = false;
        }
        if (verb === "w") this.badVerb("w", a[argNum], true);
        else this.printArg(a[argNum], verb);
        argNum++;
      }
    }
    if (!this.reordered && argNum < a.length) {
      this.clearflags();
      this.buf += "%!(EXTRA ";
      for (let i = argNum; i < a.length; i++) {
        if (i > argNum) this.buf += ", ";
        const arg = a[i];
        if (arg === undefined) this.buf += "<nil>";
        else {
          this.buf += typeOf(arg).str + "=";
          this.printArg(arg, "v");
        }
      }
      this.buf += ")";
    }
  }
}

function runeCount(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}

function tooLarge(x: number): boolean {
  return x > 1e6 || x < -1e6;
}

function parsenum(s: string, start: number, end: number): [number, boolean, number] {
  if (start >= end) return [0, false, end];
  let num = 0;
  let isnum = false;
  let i = start;
  for (; i < end && s[i]! >= "0" && s[i]! <= "9"; i++) {
    if (tooLarge(num)) return [0, false, end];
    num = num * 10 + (s.charCodeAt(i) - 0x30);
    isnum = true;
  }
  return [num, isnum, i];
}

function parseArgNumber(format: string): [number, number, boolean] {
  if (format.length < 3) return [0, 1, false];
  for (let i = 1; i < format.length; i++) {
    if (format[i] === "]") {
      const [width, ok, newi] = parsenum(format, 1, i);
      if (!ok || newi !== i) return [0, i + 1, false];
      return [width - 1, i + 1, true];
    }
  }
  return [0, 1, false];
}

function intFromArg(a: readonly GoValue[], argNum: number): [number, boolean, number] {
  let num = 0;
  let isInt = false;
  let newArgNum = argNum;
  if (argNum < a.length) {
    const v = a[argNum];
    if (v instanceof GoBox && (v.t.kind === Kind.Int || v.t.kind === Kind.Uint)) {
      const n = v.v as bigint;
      if (n >= -(1n << 63n) && n < 1n << 63n) {
        num = Number(n);
        isInt = true;
      }
    }
    newArgNum = argNum + 1;
    if (tooLarge(num)) {
      num = 0;
      isInt = false;
    }
  }
  return [num, isInt, newArgNum];
}

const pool: Printer[] = [];

function withPrinter(f: (p: Printer) => void): string {
  const p = pool.pop() ?? new Printer();
  p.buf = "";
  p.clearflags();
  p.erroring = false;
  try {
    f(p);
    return p.buf;
  } finally {
    p.buf = "";
    pool.push(p);
  }
}

/** fmt.Sprint */
export function sprint(args: readonly GoValue[]): string {
  if (args.length === 1) {
    const a = args[0];
    if (typeof a === "string") return a;
  }
  return withPrinter((p) => p.doPrint(args));
}

/** fmt.Sprintln */
export function sprintln(args: readonly GoValue[]): string {
  return withPrinter((p) => p.doPrintln(args));
}

/** fmt.Sprintf */
export function sprintf(format: string, args: readonly GoValue[]): string {
  return withPrinter((p) => p.doPrintf(format, args));
}

/** %v of one value (fmt.Sprint(v) for a single operand), the hot path of {{ $value }}. */
export function sprintValue(v: GoValue): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number": {
      // %v of a float64 is %g with shortest digits: plain decimal for 1e-4 <= |v| < 1e6, which is
      // exactly what JS prints there.
      const a = v < 0 ? -v : v;
      if (a >= 1e-4 && a < 1e6) return String(v);
      return formatFloat(v, "g", -1);
    }
    case "boolean":
      return v ? "true" : "false";
  }
  return withPrinter((p) => p.printArg(v, "v"));
}

