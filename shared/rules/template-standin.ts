// TEMPORARY stand-in for shared/template (branch `template`), with the signature that helper
// publishes: expandTemplate(name, text, data, opts). It knows only `{{ $labels.x }}`,
// `{{ .Labels.x }}`, `{{ $externalLabels.x }}`, `{{ $externalURL }}` and `{{ $value }}` (Go %v of a
// float64). Delete this file when shared/template lands on main and import from there.

import { formatGoFloat } from "../promql/format.ts";

export interface TemplateData {
  labels: Record<string, string>;
  externalLabels: Record<string, string>;
  externalURL: string;
  value: number;
}

export interface TemplateOptions {
  timestampMs: number;
  query?: (q: string, tMs: number) => Promise<unknown>;
  pathPrefix?: string;
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs;

/** Prometheus' alerting-template expansion; errors render as `<error expanding template: ...>`. */
export async function expandTemplate(name: string, text: string, data: TemplateData, _opts: TemplateOptions): Promise<string> {
  const err = checkTemplate(name, text);
  if (err !== null) return `<error expanding template: ${err}>`;
  let failure: string | null = null;
  const out = text.replace(ACTION, (_m, body: string) => {
    const b = body.trim();
    let r: RegExpExecArray | null;
    if ((r = /^(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(b))) return data.labels[r[1]!] ?? ""; // missingkey=zero: "" for a map[string]string
    if ((r = /^(?:\$externalLabels|\.ExternalLabels)\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(b))) return data.externalLabels[r[1]!] ?? "";
    if (b === "$value" || b === ".Value") return formatGoFloat(data.value);
    if (b === "$externalURL" || b === ".ExternalURL") return data.externalURL;
    failure ??= `template: ${name}: stand-in cannot evaluate {{${body}}}`;
    return "";
  });
  return failure !== null ? `<error expanding template: ${failure}>` : out;
}

/** Parse check (rulefmt's testTemplateParsing): null when fine, else Go's error text. */
export function checkTemplate(name: string, text: string): string | null {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith("{{", i)) { depth++; i++; }
    else if (text.startsWith("}}", i) && depth > 0) { depth--; i++; }
  }
  return depth > 0 ? `template: ${name}:1: unclosed action` : null;
}
