// Loaded before every suite by test/run.sh. uvu's failure reporter calls `err.details.split("\n")`,
// assuming details is a string (its assertion errors); ConnectError.details is an array, so a failing
// test that throws a ConnectError crashed the reporter, and uvu silently skipped that test and every
// later one in the file (exit code 0). Give arrays a `split` that stringifies them, for test processes only.
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
export {};
