// Prometheus file-SD files (the format of `file_sd_configs`, read by Thanos' `--store.sd-files` and the
// ruler's `--query.sd-files`): a JSON or YAML list of target groups,
//
//   - targets: ["sidecar-a:10901", "dnssrv+_grpc._tcp.stores"]
//     labels: {team: infra}
//
// chosen by the file's extension (.json, .yml, .yaml in any case). Pure: the agent reads and watches
// the files (agent/discovery/files.ts). As in Prometheus, unknown fields are errors in both syntaxes,
// label names must be valid, and a null group is an error.

import { parseDocument } from "yaml";
import { CodedError } from "../encoding/errors.ts";

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** Prometheus' pattern for file-SD paths: `*` only in the last element, a .json/.yml/.yaml name. */
const SD_NAME = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

/** Checks a `--store.sd-files` value as Prometheus checks file_sd_configs' `files`. */
export function checkFileSdPattern(flag: string, pattern: string): void {
  if (!SD_NAME.test(pattern)) {
    throw new CodedError("bad_data", `--${flag}: path name ${JSON.stringify(pattern)} is not valid for file discovery (want a .json, .yml or .yaml file, with * only in the file name)`);
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function fail(path: string, why: string): CodedError {
  return new CodedError("bad_data", `file SD ${path}: ${why}`);
}

function group(path: string, i: number, g: unknown): TargetGroup {
  if (g === null || g === undefined) throw fail(path, "nil target group item found");
  if (typeof g !== "object" || Array.isArray(g)) throw fail(path, `group ${i}: not a mapping with targets and labels`);
  const o = g as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "targets" && k !== "labels") throw fail(path, `group ${i}: unknown field ${JSON.stringify(k)}`);
  }
  const targets: string[] = [];
  if (o.targets !== undefined && o.targets !== null) {
    if (!Array.isArray(o.targets)) throw fail(path, `group ${i}: targets is not a list`);
    for (const t of o.targets) {
      if (typeof t !== "string") throw fail(path, `group ${i}: target ${JSON.stringify(t)} is not a string`);
      targets.push(t);
    }
  }
  const labels: Record<string, string> = {};
  if (o.labels !== undefined && o.labels !== null) {
    if (typeof o.labels !== "object" || Array.isArray(o.labels)) throw fail(path, `group ${i}: labels is not a mapping`);
    for (const [k, v] of Object.entries(o.labels as Record<string, unknown>)) {
      if (!LABEL_NAME.test(k)) throw fail(path, `group ${i}: ${JSON.stringify(k)} is not a valid label name`);
      if (typeof v !== "string") throw fail(path, `group ${i}: label ${k} has a non-string value`);
      labels[k] = v;
    }
  }
  return { targets, labels };
}

/** The target groups of one file's text; `path` decides the syntax and names the file in errors. */
export function parseFileSd(text: string, path: string): TargetGroup[] {
  const ext = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
  let doc: unknown;
  if (ext === "json") {
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw fail(path, `not JSON: ${(e as Error).message}`);
    }
  } else if (ext === "yml" || ext === "yaml") {
    const d = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    if (d.errors.length > 0) throw fail(path, `not YAML: ${d.errors[0]!.message}`);
    doc = d.toJS();
  } else {
    throw fail(path, "unhandled file extension (want .json, .yml or .yaml)");
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) throw fail(path, "want a list of target groups");
  return doc.map((g, i) => group(path, i, g));
}

/** Every target of some groups, first appearance order, duplicates dropped. */
export function targetsOf(groups: Iterable<TargetGroup>): string[] {
  const seen = new Set<string>();
  for (const g of groups) for (const t of g.targets) seen.add(t);
  return [...seen];
}
