// `tools rules check FILE...`: `promtool check rules` (same output, streams and exit codes), also
// accepting Thanos' group field `partial_response_strategy`.
import { readFileSync, statSync } from "node:fs";
import { parseFlags, flagsHelp, type FlagSpec } from "../flags.ts";
import { checkRules, lintConfig } from "../../shared/rules/check.ts";
import { PROGRAM } from "../program.ts";

const specs: FlagSpec[] = [
  { name: "lint", help: "linting checks to apply: all, duplicate-rules, none (comma-separated)", default: "duplicate-rules" },
  { name: "lint-fatal", help: "make lint errors exit with exit code 3", boolean: true },
  { name: "help", help: "show this help", boolean: true },
];

export const stdio = {
  out: (s: string) => { process.stdout.write(s); },
  err: (s: string) => { process.stderr.write(s); },
};

/** kingpin's ExistingFiles check, with promtool's wording; returns the exit code or null when fine. */
export function requireFiles(argName: string, files: string[]): number | null {
  if (files.length === 0) {
    process.stderr.write(`promtool: error: required argument '${argName}' not provided, try --help\n`);
    return 1;
  }
  for (const f of files) {
    let isDir: boolean;
    try {
      isDir = statSync(f).isDirectory();
    } catch {
      process.stderr.write(`promtool: error: path '${f}' does not exist, try --help\n`);
      return 1;
    }
    if (isDir) {
      process.stderr.write(`promtool: error: '${f}' is a directory, try --help\n`);
      return 1;
    }
  }
  return null;
}

/** Go's os.ReadFile error text ("open x: permission denied"). */
export function readGo(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code;
    const what = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "is a directory" : (e as Error).message;
    throw new Error(`open ${file}: ${what}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools rules check", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools rules check [flags] <rule-files>...\n\nCheck if the rule files are valid or not (promtool check rules; Thanos' partial_response_strategy accepted).\n\n${flagsHelp(specs)}`);
    return 0;
  }
  const bad = requireFiles("rule-files", f.positionals);
  if (bad !== null) return bad;
  const ls = lintConfig(f.get("lint")!, f.bool("lint-fatal"), stdio);
  return checkRules(f.positionals, ls, readGo, stdio, { thanos: true });
}
