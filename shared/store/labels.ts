// StoreAPI-side label logic shared by every store (sidecar, store gateway, ruler): external labels
// against request matchers, attaching external labels, dropping replica labels.

import { compareStrings, type Label, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";

/**
 * Thanos' matchesExternalLabels: a matcher on an external label name is decided here, against the
 * external value, and never sent to the backend (Prometheus' TSDB does not store external labels, so
 * `cluster="a"` would match nothing there). `match: false` means the request cannot select anything from
 * this store: answer empty without asking the backend.
 */
export function matchExternalLabels(matchers: readonly Matcher[], ext: Labels): { match: boolean; rest: Matcher[] } {
  const rest: Matcher[] = [];
  for (const m of matchers) {
    let ev: string | undefined;
    for (const l of ext) if (l.name === m.name) { ev = l.value; break; }
    if (ev === undefined) { rest.push(m); continue; }
    if (!m.matches(ev)) return { match: false, rest: [] };
  }
  return { match: true, rest };
}

/**
 * Series labels with the external labels set on top (the external value wins on a name clash, as in
 * Thanos' ExtendSortedLabels). Idempotent: Prometheus' remote read already merged the external labels
 * into the series it returns, so applying them again must not duplicate them. Both inputs sorted.
 */
export function extendLabels(series: Labels, ext: Labels): Labels {
  if (ext.length === 0) return series;
  const out: Label[] = [];
  let i = 0, j = 0;
  while (i < series.length || j < ext.length) {
    if (j >= ext.length) { out.push(series[i++]!); continue; }
    if (i >= series.length) { out.push(ext[j++]!); continue; }
    const c = compareStrings(series[i]!.name, ext[j]!.name);
    if (c < 0) out.push(series[i++]!);
    else if (c > 0) out.push(ext[j++]!);
    else { out.push(ext[j++]!); i++; }
  }
  return out;
}

/** The external labels minus the `without_replica_labels` of a request. */
export function externalLabelsWithout(ext: Labels, withoutReplica: readonly string[]): Labels {
  if (withoutReplica.length === 0) return ext;
  const drop = new Set(withoutReplica);
  return ext.filter((l) => !drop.has(l.name));
}

/** Remove labels by name (sorted input stays sorted). */
export function dropLabelNames(ls: Labels, names: ReadonlySet<string>): Labels {
  if (names.size === 0) return ls;
  let hit = false;
  for (const l of ls) if (names.has(l.name)) { hit = true; break; }
  return hit ? ls.filter((l) => !names.has(l.name)) : ls;
}

/** Sorted, de-duplicated union of string lists (label names / values from several sources). */
export function mergeSortedStrings(lists: readonly (readonly string[])[]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const s of l) set.add(s);
  return [...set].sort(compareStrings);
}
