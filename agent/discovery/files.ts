// File service discovery for the agents (`--store.sd-files`, the ruler's `--query.sd-files`): the
// files matching the patterns are read (shared/discovery/filesd.ts parses them), watched (fs.watch on
// their directories, so files created, rewritten or renamed into place are seen at once) and re-read
// every `--store.sd-interval` as a fallback, as Prometheus' file discovery does. Also as there: a file
// that fails to read or parse keeps its previous targets (and the error is reported); a file that is
// gone takes its targets with it.

import { type FSWatcher, readdirSync, readFileSync, watch } from "node:fs";
import { basename, dirname, join } from "node:path";
import { checkFileSdPattern, parseFileSd, type TargetGroup, targetsOf } from "../../shared/discovery/filesd.ts";
import { errorMessage } from "../../shared/encoding/errors.ts";
import type { Logger } from "../log.ts";

function globRegex(pat: string): RegExp {
  let re = "";
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pat.indexOf("]", i + 1);
      if (end < 0) { re += "\\["; continue; }
      re += `[${pat.slice(i + 1, end)}]`; // Go's classes: [^...] negates, as in a RegExp
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Files a pattern matches now (metacharacters only in the file name, as Prometheus allows `*`). */
export function expandPattern(pattern: string): string[] {
  const dir = dirname(pattern), base = basename(pattern);
  if (!/[*?[]/.test(base)) return [pattern];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const re = globRegex(base);
  return names.filter((n) => re.test(n)).sort().map((n) => join(dir, n));
}

export interface FileSdUpdate {
  targets: string[];
}

export class FileSd {
  private last = new Map<string, TargetGroup[]>();
  private watchers: FSWatcher[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private lastTargets = "";

  constructor(
    private readonly patterns: string[],
    private readonly intervalMs: number,
    private readonly onUpdate: (u: FileSdUpdate) => void,
    private readonly log?: Logger,
    private readonly flag = "store.sd-files",
  ) {
    for (const p of patterns) checkFileSdPattern(flag, p);
  }

  /** Reads every file now; calls onUpdate when the targets changed. */
  refresh(): FileSdUpdate {
    const u = this.read();
    const key = JSON.stringify(u.targets);
    if (key !== this.lastTargets) {
      this.lastTargets = key;
      this.onUpdate(u);
    }
    return u;
  }

  /** Reads every file (a file that fails keeps its previous targets; the error is logged). */
  private read(): FileSdUpdate {
    const next = new Map<string, TargetGroup[]>();
    const errors: string[] = [];
    for (const p of this.patterns) {
      for (const f of expandPattern(p)) {
        if (next.has(f)) continue;
        try {
          next.set(f, parseFileSd(readFileSync(f, "utf8"), f));
        } catch (e) {
          if ((e as { code?: string }).code === "ENOENT") continue; // gone between listing and reading
          errors.push(errorMessage(e));
          const prev = this.last.get(f);
          if (prev) next.set(f, prev);
        }
      }
    }
    this.last = next;
    for (const e of errors) this.log?.error("file SD: keeping the previous targets of a file that does not load", { err: e });
    return { targets: targetsOf([...next.values()].flat()) };
  }

  /**
   * First read, then watch and poll. The first read is returned, not passed to onUpdate: the caller
   * applies it before its own first round (onUpdate gets the changes after that).
   */
  start(): FileSdUpdate {
    const u = this.read();
    this.lastTargets = JSON.stringify(u.targets);
    const soon = () => {
      if (this.debounce) clearTimeout(this.debounce);
      // Editors write in several steps (truncate, write, rename): read once they are done.
      this.debounce = setTimeout(() => { this.debounce = null; this.refresh(); }, 100);
    };
    for (const dir of new Set(this.patterns.map((p) => dirname(p)))) {
      try {
        const w = watch(dir, { persistent: false }, () => soon());
        w.on("error", (e) => this.log?.warn("file SD: watching a directory failed; polling only", { dir, err: errorMessage(e) }));
        this.watchers.push(w);
      } catch (e) {
        this.log?.warn("file SD: cannot watch a directory; polling only", { dir, err: errorMessage(e) });
      }
    }
    this.timer = setInterval(() => this.refresh(), this.intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
    return u;
  }

  stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = this.debounce = null;
  }
}
