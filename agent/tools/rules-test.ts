// `tools rules test FILE...`: `promtool test rules` (same test-file format, evaluation, failure text
// and exit codes), also accepting Thanos' partial_response_strategy in the rule files.
import { dirname, isAbsolute, join } from "node:path";
import { errorCode } from "../../shared/encoding/errors.ts";
import { parseFlags, flagsHelp, type FlagSpec } from "../flags.ts";
import { glob } from "../rule/glob.ts";
import { rulesUnitTest } from "../../shared/rules/unittest.ts";
import { readGo, requireFiles, stdio } from "./rules-check.ts";
import { PROGRAM } from "../program.ts";

const specs: FlagSpec[] = [
  { name: "help", help: "show this help", boolean: true },
];

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools rules test", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools rules test <test-rule-file>...\n\nUnit tests for rules (promtool test rules).\n\n${flagsHelp(specs)}`);
    return 0;
  }
  const bad = requireFiles("test-rule-file", f.positionals);
  if (bad !== null) return bad;
  return await rulesUnitTest(f.positionals, {
    read: readGo,
    // A bad pattern reads as Go's filepath.ErrBadPattern, which promtool prints as is.
    glob: (p) => {
      try { return glob(p); } catch (e) { throw errorCode(e) === "bad_data" ? new Error("syntax error in pattern") : e; }
    },
    dirname,
    join,
    isAbs: isAbsolute,
    ...stdio,
  });
}
