// Loaded before every suite by test/run.sh (Node, Bun and Deno). Three repairs to uvu 0.5.6, for test
// processes only:
//
// 1. uvu's failure reporter calls `err.details.split("\n")`, assuming details is a string (its assertion
//    errors); ConnectError.details is an array, so a failing test that throws a ConnectError crashed the
//    reporter, and uvu silently skipped that test and every later one in the file (exit code 0). Arrays
//    get a `split` that stringifies them.
// 2. A `before` hook that throws is swallowed by uvu (its runner returns from a `finally`): the suite
//    shows `(0 / N)`, no error, exit code 0. Hooks registered through a suite's `.before` are wrapped so
//    the error is printed with the suite's name, and the process exits 1.
// 3. A process that stays alive after uvu's summary (a server or timer a failed test left open) would
//    hang until test/run.sh's timeout. It exits EXIT_GRACE_MS after the summary, saying so, with status 1.

const proto = Array.prototype as unknown as { split?: (sep: string) => string[] };
if (typeof proto.split !== "function") {
  Object.defineProperty(Array.prototype, "split", {
    value: function split(this: unknown[], sep: string): string[] {
      return this.map((d) => { try { return JSON.stringify(d); } catch { return String(d); } }).join(sep).split(sep);
    },
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

/** Suites whose `before` hook threw; the process exits 1 when any did. */
const hookFailures: string[] = [];

function report(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

type Hook = (state: { __suite__?: string }) => unknown;

/** A `before` hook that prints what it threw before uvu swallows it. */
function guardHook(hook: Hook): Hook {
  return async (state) => {
    try {
      return await hook(state);
    } catch (e) {
      const name = state?.__suite__ ?? "";
      hookFailures.push(name);
      process.exitCode = 1;
      console.error(`\n  ✘ before hook of ${name ? `suite ${JSON.stringify(name)}` : "the default suite"} threw; none of its tests ran:\n    ${report(e).split("\n").join("\n    ")}\n`);
      throw e;
    }
  };
}

// uvu builds each suite with `test.before = hook(ctx, "before")` on a fresh function. An accessor on
// Function.prototype sees that assignment; it stores the registrar as the function's own property,
// wrapped so that hooks registered on a uvu suite (a function that also has run/skip/only) are guarded.
Object.defineProperty(Function.prototype, "before", {
  configurable: true,
  get() { return undefined; },
  set(this: object, register: unknown) {
    let value = register;
    if (typeof register === "function") {
      const target = this as { run?: unknown; skip?: unknown; only?: unknown };
      const wrapped = function (this: unknown, hook: unknown, ...rest: unknown[]) {
        const isSuite = typeof target.run === "function" && typeof target.skip === "function" && typeof target.only === "function";
        return register.call(this, isSuite && typeof hook === "function" ? guardHook(hook as Hook) : hook, ...rest);
      };
      value = wrapped;
    }
    Object.defineProperty(this, "before", { value, writable: true, configurable: true, enumerable: true });
  },
});

const EXIT_GRACE_MS = Number(process.env.THANOTS_TEST_EXIT_GRACE_MS) || 10_000;

// uvu prints "Duration:" as the last line of its summary, then sets process.exitCode.
const out = process.stdout as unknown as { write: (chunk: unknown, ...rest: unknown[]) => boolean };
const write = out.write.bind(out);
out.write = (chunk: unknown, ...rest: unknown[]) => {
  const r = write(chunk, ...rest);
  if (typeof chunk === "string" && chunk.includes("  Duration:")) afterSummary();
  return r;
};

function afterSummary(): void {
  // After uvu's own `process.exitCode = code`.
  setTimeout(() => { if (hookFailures.length) process.exitCode = 1; }, 0);
  const t = setTimeout(() => {
    const stdio: unknown[] = [process.stdin, process.stdout, process.stderr];
    const handles = ((process as unknown as { _getActiveHandles?: () => object[] })._getActiveHandles?.() ?? [])
      .filter((h) => !stdio.includes(h)).map((h) => h.constructor?.name ?? typeof h);
    console.error(`\n  ✘ the test process was still running ${EXIT_GRACE_MS / 1000} s after uvu's summary: something a test started was left open${handles.length ? ` (${handles.join(", ")})` : ""}; exiting with status 1`);
    process.exit(1);
  }, EXIT_GRACE_MS);
  (t as { unref?: () => void }).unref?.();
}

export {};
