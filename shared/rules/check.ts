// `promtool check rules` (Prometheus 2.42 cmd/promtool/main.go CheckRules): the same lines on the
// same streams and the same exit codes (0 fine, 1 errors, 3 lint errors with --lint-fatal), with
// Thanos' `partial_response_strategy` group field accepted. Pure: files come through `read`.

import { compareLabels, type Labels } from "../labels/labels.ts";
import { prefixErrors, parseRules, type GroupDef } from "./rulefmt.ts";

export interface LintConfig {
  all: boolean;
  duplicateRules: boolean;
  fatal: boolean;
}

export interface Output {
  out(s: string): void;
  err(s: string): void;
}

/** promtool's newLintConfig: comma-separated all|duplicate-rules|none; unknown ones warned on stdout. */
export function lintConfig(value: string, fatal: boolean, o: Output): LintConfig {
  const ls: LintConfig = { all: false, duplicateRules: false, fatal };
  for (const s of value.split(",")) {
    switch (s) {
      case "all": ls.all = true; break;
      case "duplicate-rules": ls.duplicateRules = true; break;
      case "none": break;
      default: o.out(`WARNING: unknown lint option ${s}\n`);
    }
  }
  return ls;
}

interface Dup { metric: string; labels: Labels }

function compareDup(a: Dup, b: Dup): number {
  if (a.metric !== b.metric) return a.metric < b.metric ? -1 : 1;
  return compareLabels(a.labels, b.labels);
}

/** promtool's checkDuplicates: rules with the same name and labels (alerts included). */
export function duplicateRules(groups: GroupDef[]): Dup[] {
  const rules: Dup[] = [];
  for (const g of groups) for (const r of g.rules) rules.push({ metric: r.name, labels: r.labels });
  const dups: Dup[] = [];
  if (rules.length < 2) return dups;
  rules.sort(compareDup);
  let last = rules[0]!;
  for (let i = 1; i < rules.length; i++) {
    if (compareDup(last, rules[i]!) === 0 && (dups.length === 0 || compareDup(last, dups[dups.length - 1]!) !== 0)) dups.push(rules[i]!);
    last = rules[i]!;
  }
  return dups;
}

const LINT = Symbol("lint");

/** Check the files; returns the exit code. `read` throws with Go's message when a file is unreadable. */
export function checkRules(files: string[], ls: LintConfig, read: (file: string) => string, o: Output, opts: { thanos?: boolean } = {}): number {
  let failed = false, hasErrors = false;
  for (const f of files) {
    o.out(`Checking ${f}\n`);
    const errs: (string | { [LINT]: string })[] = [];
    let n = 0;
    let text: string | null = null;
    try {
      text = read(f);
    } catch (e) {
      errs.push(`${f}: ${(e as Error).message}`);
    }
    if (text !== null) {
      const rf = parseRules(text, { thanos: opts.thanos !== false });
      if (rf.errors.length > 0) errs.push(...prefixErrors(f, rf.errors));
      else {
        for (const g of rf.groups) n += g.rules.length;
        if (ls.all || ls.duplicateRules) {
          const d = duplicateRules(rf.groups);
          if (d.length > 0) {
            let msg = `${d.length} duplicate rule(s) found.\n`;
            for (const x of d) {
              msg += `Metric: ${x.metric}\nLabel(s):\n`;
              for (const l of x.labels) msg += `\t${l.name}: ${l.value}\n`;
            }
            msg += "Might cause inconsistency while recording expressions";
            errs.push({ [LINT]: `lint error ${msg}` });
          }
        }
      }
    }
    if (errs.length > 0) {
      o.err("  FAILED:\n");
      for (const e of errs) o.err((typeof e === "string" ? e : e[LINT]) + "\n");
      failed = true;
      if (errs.some((e) => typeof e === "string")) hasErrors = true;
    } else {
      o.out(`  SUCCESS: ${n} rules found\n`);
    }
    o.out("\n");
  }
  if (failed && hasErrors) return 1;
  if (failed && ls.fatal) return 3;
  return 0;
}
