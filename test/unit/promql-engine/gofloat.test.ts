// Go float and time behaviour the engine reproduces. Expected values are Go's (strconv, math, time)
// as documented, and for goUnixTime what Prometheus 2.42 answered for year(vector(NaN)) & co.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { formatFloatF, goAcos, goAsin, goAtan, goAtan2, goCos, goLog, goLog10, goLog2, goMax, goMin, goParseFloat, goPow, goSin, goTan } from "../../../shared/promql/value.ts";
import { bucketQuantile, goUnixTime, quantile } from "../../../shared/promql/functions.ts";

test("goPow: Go math.Pow special cases where JS ** differs", () => {
  assert.is(goPow(1, NaN), 1);
  assert.is(goPow(-1, Infinity), 1);
  assert.is(goPow(-1, -Infinity), 1);
  assert.is(goPow(NaN, 0), 1);
  assert.is(goPow(2, 10), 1024);
  assert.ok(Number.isNaN(goPow(-8, 1 / 3)));
});

test("Go math ports give Prometheus 2.42's exact answers (recorded from its HTTP API)", () => {
  assert.is(goSin(1), 0.8414709848078965);
  assert.is(goSin(-7.5), -0.9379999767747389);
  assert.is(goCos(100), 0.8623188722876839);
  assert.is(goTan(1.5), 14.101419947171719);
  assert.is(goTan(-0.3), -0.30933624960962325);
  assert.is(goAtan(0.7), 0.6107259643892086);
  assert.is(goAsin(0.75), 0.848062078981481);
  assert.is(goAcos(-0.2), 1.7721542475852274);
  assert.is(goAtan2(3, -4), 2.498091544796509);
  assert.is(goLog(0.3), -1.2039728043259361);
  assert.is(goPow(1.1, 37), 34.003948586157826);
  assert.is(goAtan2(0, -0), Math.PI);
  assert.ok(Object.is(goSin(-0), -0));
});

test("goMax/goMin: Go's math.Max/Min let an infinity win over NaN", () => {
  assert.is(goMax(NaN, Infinity), Infinity);
  assert.is(goMin(-Infinity, NaN), -Infinity);
  assert.ok(Number.isNaN(goMax(NaN, 1)));
  assert.ok(Number.isNaN(goMin(1, NaN)));
  assert.ok(Object.is(goMax(-0, 0), 0));
  assert.ok(Object.is(goMin(0, -0), -0));
});

test("goLog2/goLog10: exact for powers of two; Go's Log10 is Log(x)*(1/Ln10)", () => {
  assert.is(goLog2(8), 3);
  assert.is(goLog2(0.125), -3);
  assert.is(goLog2(0), -Infinity);
  assert.ok(Number.isNaN(goLog2(-1)));
  assert.is(goLog2(Infinity), Infinity);
  assert.is(goLog10(1000), 3);
  // Values Prometheus 2.42 answered for log10(vector(3.3)) and log2(vector(12345)).
  assert.is(goLog10(3.3), 0.5185139398778875);
  assert.is(goLog2(12345), 13.591639216030144);
});

test("formatFloatF: strconv.FormatFloat(v, 'f', -1, 64)", () => {
  assert.is(formatFloatF(1e21), "1000000000000000000000");
  assert.is(formatFloatF(1.5e-7), "0.00000015");
  assert.is(formatFloatF(123.456), "123.456");
  assert.is(formatFloatF(-0), "-0");
  assert.is(formatFloatF(NaN), "NaN");
  assert.is(formatFloatF(-Infinity), "-Inf");
});

test("goParseFloat: strconv.ParseFloat acceptance", () => {
  assert.is(goParseFloat("+Inf"), Infinity);
  assert.is(goParseFloat("inf"), Infinity);
  assert.is(goParseFloat("-Infinity"), -Infinity);
  assert.is(goParseFloat("0x1p-2"), 0.25);
  assert.is(goParseFloat("1e3"), 1000);
  assert.is(goParseFloat(".5"), 0.5);
  assert.is(goParseFloat("1_0"), null);
  assert.is(goParseFloat(""), null);
  assert.is(goParseFloat(" 1"), null);
  assert.is(goParseFloat("0x10"), null); // hex mantissa needs a p exponent
  assert.ok(Number.isNaN(goParseFloat("NaN")!));
});

test("goUnixTime: ordinary dates and Go's wrap-around for NaN/Inf seconds", () => {
  assert.equal(goUnixTime(0), { year: 1970, month: 1, day: 1, yday: 1, hour: 0, minute: 0, weekday: 4 });
  assert.equal(goUnixTime(951782400), { year: 2000, month: 2, day: 29, yday: 60, hour: 0, minute: 0, weekday: 2 });
  assert.equal(goUnixTime(-1), { year: 1969, month: 12, day: 31, yday: 365, hour: 23, minute: 59, weekday: 3 });
  assert.equal(goUnixTime(NaN), { year: 292277026596, month: 12, day: 4, yday: 339, hour: 15, minute: 30, weekday: 0 });
  assert.equal(goUnixTime(-Infinity), goUnixTime(NaN));
});

test("quantile and bucketQuantile edge rules (quantile.go)", () => {
  assert.is(quantile(0.5, [3, 1, 2]), 2);
  assert.is(quantile(-1, [1]), -Infinity);
  assert.is(quantile(2, [1]), Infinity);
  assert.ok(Number.isNaN(quantile(0.5, [])));
  const b = () => [{ upper: 1, count: 5 }, { upper: Infinity, count: 10 }, { upper: 0.5, count: 2 }];
  assert.is(bucketQuantile(0.1, b()), 0.5 * (1 / 2));
  assert.is(bucketQuantile(0.99, b()), 1); // rank in the +Inf bucket: the last finite bound
  assert.ok(Number.isNaN(bucketQuantile(0.5, [{ upper: 1, count: 1 }])));
  // Non-monotonic counts are raised to the running maximum.
  assert.is(bucketQuantile(0.5, [{ upper: 1, count: 10 }, { upper: 2, count: 5 }, { upper: Infinity, count: 20 }]), 1);
});

test.run();
