// Go's fmt and strconv as shared/template prints numbers and strings. Expected values are Go's
// (fmt and strconv documentation and tests; every one also checked against Go 1.26 with
// test/template/oracle.go). The exhaustive comparison with Go runs in
// test/integration/template-go.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { sprint, sprintf, sprintln } from "../../../shared/template/fmt.ts";
import { formatFloat, parseFloat64, parseInt64, quote, quoteToASCII, unquote } from "../../../shared/template/strconv.ts";
import { GoBox, GoMap, INT, MAP_SS } from "../../../shared/template/value.ts";

const int = (n: number) => new GoBox(INT, BigInt(n));

test("%v of float64: shortest digits, exponent at 1e21 and below 1e-4 (and at 1e6 for %v)", () => {
  const cases: [number, string][] = [
    [1e6, "1e+06"], [123456, "123456"], [1234567, "1.234567e+06"], [0.1, "0.1"], [0.0001, "0.0001"], [1e-5, "1e-05"],
    [1e21, "1e+21"], [0.30000000000000004, "0.30000000000000004"], [-0, "-0"], [0, "0"], [NaN, "NaN"],
    [Infinity, "+Inf"], [-Infinity, "-Inf"], [5e-324, "5e-324"], [1.7976931348623157e308, "1.7976931348623157e+308"],
    [3.14159, "3.14159"], [-1500, "-1500"], [1e100, "1e+100"], [2 ** 53 + 2, "9.007199254740994e+15"],
  ];
  for (const [v, want] of cases) assert.is(sprint([v]), want, String(v));
});

test("fixed precision rounds the exact binary value, exact ties to even", () => {
  const cases: [string, number, string][] = [
    ["%.2f", 0.125, "0.12"], ["%.2f", 0.375, "0.38"], ["%.0f", 0.5, "0"], ["%.0f", 1.5, "2"], ["%.0f", 2.5, "2"],
    ["%.0f", -0.5, "-0"], ["%.1f", 0.05, "0.1"], ["%.1f", 0.25, "0.2"], ["%.2f", 1.005, "1.00"], ["%.3g", 2.675, "2.67"],
    ["%.4g", 1234567, "1.235e+06"], ["%.4g", 100000, "1e+05"], ["%.4g", 0.0001234, "0.0001234"], ["%.2e", 1250, "1.25e+03"],
    ["%.1e", 1250, "1.2e+03"], ["%e", 0, "0.000000e+00"], ["%f", 1e21, "1000000000000000000000.000000"],
    ["%.3f", -0.0004, "-0.000"], ["%g", 1e-7, "1e-07"], ["%G", 1e-7, "1E-07"], ["%.0g", 15, "2e+01"],
    ["%.30f", 0.1, "0.100000000000000005551115123126"],
  ];
  for (const [f, v, want] of cases) assert.is(sprintf(f, [v]), want, `${f} ${v}`);
});

test("flags, widths and the other float verbs", () => {
  assert.is(sprintf("%5.1f|%-8.2f|%08.3f|%+.1e|% .2f|%+d", [3.14159, 2.5, -1.5, 12345, 1, int(5)]), "  3.1|2.50    |-001.500|+1.2e+04| 1.00|+5");
  assert.is(sprintf("%x|%X|%.3x|%b", [1, 255.5, 1, 1]), "0x1p+00|0X1.FFP+07|0x1.000p+00|4503599627370496p-52");
  assert.is(sprintf("%#g|%#.3g|%#.0f|%#v", [1, 1, 2, 1e6]), "1.00000|1.00|2.|1e+06");
  assert.is(sprintf("%8.2f|%-8v|%08v", [Infinity, NaN, -Infinity]), "    +Inf|NaN     |    -Inf");
});

test("integers, strings, runes and booleans", () => {
  assert.is(sprintf("%d %5d %-5d| %05d %x %X %o %O %b %c %q %U %#U", [int(42), int(42), int(42), int(-42), int(255), int(255), int(8), int(8), int(5), int(65), int(65), int(0x1f600), int(0x1f600)]),
    "42    42 42   | -0042 ff FF 10 0o10 101 A 'A' U+1F600 U+1F600 '😀'");
  assert.is(sprintf("%s|%10s|%-10s|%.3s|%q|%+q|%#q|%x|% X", ["héllo", "héllo", "héllo", "héllo", "a\"b\n", "é", "x`", "hé", "hé"]),
    "héllo|     héllo|héllo     |hél|\"a\\\"b\\n\"|\"\\u00e9\"|\"x`\"|68c3a9|68 C3 A9");
  assert.is(sprintf("%t %v %5t", [true, false, true]), "true false  true");
  assert.is(sprintf("%05s|%.0d|%x", ["ab", int(0), "ab"]), "000ab||6162");
});

test("maps print sorted by key; nil, bad verbs, missing and extra arguments as Go writes them", () => {
  const m = new GoMap(MAP_SS, { b: "2", a: "1", "é": "3", Z: "0" });
  assert.is(sprint([m]), "map[Z:0 a:1 b:2 é:3]");
  assert.is(sprintf("%q", [m]), 'map["Z":"0" "a":"1" "b":"2" "é":"3"]');
  assert.is(sprintf("%d", [m]), "map[%!d(string=Z):%!d(string=0) %!d(string=a):%!d(string=1) %!d(string=b):%!d(string=2) %!d(string=é):%!d(string=3)]");
  assert.is(sprintf("%d|%s|%v|%d", ["x", 1.5, undefined, undefined]), "%!d(string=x)|%!s(float64=1.5)|<nil>|%!d(<nil>)");
  assert.is(sprintf("%s %d", ["a"]), "a %!d(MISSING)");
  assert.is(sprintf("x", [int(1), "a"]), "x%!(EXTRA int=1, string=a)");
  assert.is(sprintf("%!|%|%z", [int(1)]), "%!!(int=1)|%!|(MISSING)%!z(MISSING)");
  assert.is(sprintf("%[2]s %[1]s|%[3]d", ["a", "b"]), "b a|%!d(BADINDEX)");
  assert.is(sprintf("%*d|%.*f|%*d", [int(5), int(1), int(2), 3.14159, "x", int(1)]), "    1|3.14|%!(BADWIDTH)1");
  assert.is(sprintf("%T %T %T %T", [1.5, "s", int(1), undefined]), "float64 string int <nil>");
});

test("Sprint spaces operands unless one side is a string; Sprintln always", () => {
  assert.is(sprint([int(1), int(2), "a", "b", int(3), true, undefined]), "1 2ab3 true <nil>");
  assert.is(sprintln(["a", int(1), 2.5]), "a 1 2.5\n");
  assert.is(sprint([]), "");
});

test("strconv: quoting and unquoting with Go's escapes", () => {
  assert.is(quote("a\"b\\c\n\t\x01\x7fé😀\u00a0\u2028"), '"a\\"b\\\\c\\n\\t\\x01\\x7fé😀\\u00a0\\u2028"');
  assert.is(quoteToASCII("é😀"), '"\\u00e9\\U0001f600"');
  assert.is(unquote('"a\\tb\\u00e9\\x41\\101\\xc3\\xa9"'), "a\tbéAAé");
  assert.is(unquote("`raw\\n\r`"), "raw\\n");
  for (const bad of ['"\\q"', '"\\\'"', "'ab'", "''", '"\\ud800"', '"a']) assert.throws(() => unquote(bad), /invalid syntax/, bad);
});

test("strconv: ParseFloat and ParseInt accept exactly Go's syntax", () => {
  const ok: [string, number][] = [
    ["1e3", 1000], [".5", 0.5], ["1.", 1], ["+Inf", Infinity], ["-infinity", -Infinity], ["nan", NaN], ["0x1p-2", 0.25],
    ["1_000", 1000], ["0x_1p4", 16], ["-0", -0], ["1e1_0", 1e10],
  ];
  for (const [s, v] of ok) assert.ok(Object.is(parseFloat64(s).v, v) && parseFloat64(s).err === undefined, s);
  for (const s of ["", "abc", "1e", "0x10", "1__0", "_1", "inf ", " 1", "+nan", "infin", "1,5", "Infinityx"]) assert.is(parseFloat64(s).err, "invalid syntax", s);
  assert.equal(parseFloat64("1e400"), { v: Infinity, err: "value out of range" });
  assert.equal(parseFloat64("1e-400"), { v: 0 });
  assert.equal(parseInt64("0x1F"), { ok: true, v: 31n });
  assert.equal(parseInt64("017"), { ok: true, v: 15n });
  assert.equal(parseInt64("-0b101"), { ok: true, v: -5n });
  assert.equal(parseInt64("9223372036854775808"), { ok: false, err: "value out of range", v: 9223372036854775807n });
  assert.equal(parseInt64("08").ok, false);
});

test("formatFloat agrees with itself across representations of the same value", () => {
  // Shortest output must parse back to the same float (round trip), as Go guarantees.
  for (let i = 0; i < 2000; i++) {
    const v = (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 60 - 30);
    for (const f of ["e", "f", "g"]) assert.is(Number(formatFloat(v, f, -1)), v, `${f} ${v}`);
  }
});

test.run();
