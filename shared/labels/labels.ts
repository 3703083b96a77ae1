// Label sets: always sorted by name, names unique. The StoreAPI stream order is compareLabels order.

export interface Label {
  name: string;
  value: string;
}

/** Sorted by name, unique names. Treat as immutable. */
export type Labels = readonly Label[];

export const METRIC_NAME = "__name__";

function cmpStr(a: string, b: string): number {
  // Go compares strings bytewise (UTF-8); JS compares UTF-16 code units. They agree except for
  // characters outside the BMP vs U+E000–U+FFFF; handle that case exactly.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? (y >= 0xe000 ? 1 : x < y ? -1 : 1) : (x >= 0xe000 ? -1 : x < y ? -1 : 1);
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}
export { cmpStr as compareStrings };

/** Prometheus labels.Compare: by name, then value, pairwise; shorter set first when a prefix. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.name !== y.name) return cmpStr(x.name, y.name);
    if (x.value !== y.value) return cmpStr(x.value, y.value);
  }
  return a.length - b.length;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

/** Build a sorted label set from pairs or an object; empty values are dropped (as Prometheus does). */
export function labelsFrom(src: Record<string, string> | Iterable<Label>): Labels {
  const out: Label[] = [];
  if (Symbol.iterator in (src as object)) {
    for (const l of src as Iterable<Label>) if (l.value !== "") out.push({ name: l.name, value: l.value });
  } else {
    for (const [name, value] of Object.entries(src as Record<string, string>)) if (value !== "") out.push({ name, value });
  }
  out.sort((x, y) => cmpStr(x.name, y.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) throw new Error(`duplicate label name ${JSON.stringify(out[i]!.name)}`);
  }
  return out;
}

export function getLabel(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return "";
}

/** Prometheus labels.String(): {a="b", c="d"}, values quoted like Go %q. */
export function labelsString(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ", ";
    s += ls[i]!.name + "=" + JSON.stringify(ls[i]!.value);
  }
  return s + "}";
}

export function withoutLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => !names.has(l.name));
}
