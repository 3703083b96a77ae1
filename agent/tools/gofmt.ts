// Go's fmt %g for float64 (what promtool tsdb dump prints): shortest round-trip digits, exponent form
// when the decimal exponent is < -4 or >= 6 (Go uses 6, not 21, for %g with shortest precision), a
// two-digit minimum exponent, "+Inf"/"-Inf" keep their sign, NaN has none.

export function goFormatG(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const neg = v < 0;
  // JS and Go both pick the shortest digit string that round-trips, nearest to the exact value.
  const [m, e] = Math.abs(v).toExponential().split("e") as [string, string];
  const digits = m.replace(".", "");
  const exp = Number(e);
  let s: string;
  if (exp < -4 || exp >= 6) {
    const ae = Math.abs(exp);
    s = digits[0]! + (digits.length > 1 ? "." + digits.slice(1) : "") + "e" + (exp < 0 ? "-" : "+") + (ae < 10 ? "0" : "") + ae;
  } else if (exp >= 0) {
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
    const frac = digits.slice(exp + 1);
    s = frac ? `${int}.${frac}` : int;
  } else {
    s = "0." + "0".repeat(-exp - 1) + digits;
  }
  return neg ? "-" + s : s;
}
