// Go's time.Time as Prometheus' templates produce it (always UTC, millisecond resolution: toTime and
// humanizeTimestamp go through model.Time): String(), Format(layout) with Go's reference-time layout
// language, and the common methods (Unix, UnixMilli, UnixNano, Year, Month, Day, Hour, Minute,
// Second, Nanosecond, YearDay, Weekday, UTC, IsZero, String, Format).

import {
  GoBox, GoPtr, GoStruct, INT, INT64, named, ptrTo, STRING, structOf, BOOL, UINT64, type GoType, type GoValue, type Method,
} from "./value.ts";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

export const MONTH_T: GoType = named("time.Month", INT);
MONTH_T.stringer = (v) => {
  const m = Number((v as GoBox).v);
  return m >= 1 && m <= 12 ? MONTHS[m - 1]! : `%!Month(${m})`;
};
export const WEEKDAY_T: GoType = named("time.Weekday", INT);
WEEKDAY_T.stringer = (v) => {
  const d = Number((v as GoBox).v);
  return d >= 0 && d <= 6 ? DAYS[d]! : `%!Weekday(${d})`;
};

// time.Time's fields as Go lays them out for a time from time.Unix(...).UTC(): wall holds the
// nanoseconds, ext the seconds since year 1, loc is nil for UTC. They are unexported (errors name
// them) but %d and friends print them.
const LOCATION_PTR = ptrTo(structOf([], "time.Location"));
const UNIX_TO_INTERNAL = 62135596800n;
export const TIME_T: GoType = structOf(
  [
    { name: "wall", type: UINT64, exported: false },
    { name: "ext", type: INT64, exported: false },
    { name: "loc", type: LOCATION_PTR, exported: false },
  ],
  "time.Time",
);
export const TIME_PTR_T: GoType = ptrTo(TIME_T);

export function goTime(ms: number): GoStruct {
  const sec = Math.floor(ms / 1000);
  const nsec = (ms - sec * 1000) * 1e6;
  return new GoStruct(TIME_T, [new GoBox(UINT64, BigInt(nsec)), new GoBox(INT64, BigInt(sec) + UNIX_TO_INTERNAL), new GoPtr(LOCATION_PTR, null)]);
}

function msOf(v: GoValue): number {
  const f = (v as GoStruct).fields;
  const sec = ((f[1] as GoBox).v as bigint) - UNIX_TO_INTERNAL;
  return Number(sec) * 1000 + Number((f[0] as GoBox).v as bigint) / 1e6;
}

interface Parts {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  min: number;
  sec: number;
  nsec: number;
  wday: number;
  yday: number; // 1..366
}

function parts(ms: number): Parts {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const dayStart = Date.UTC(year, d.getUTCMonth(), d.getUTCDate());
  const msInSec = ((ms % 1000) + 1000) % 1000;
  return {
    year,
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    min: d.getUTCMinutes(),
    sec: d.getUTCSeconds(),
    nsec: msInSec * 1e6,
    wday: d.getUTCDay(),
    yday: Math.round((dayStart - start) / 86400000) + 1,
  };
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, "0");
  return n < 0 ? "-" + s : s;
}

type Std =
  | { k: "lit"; s: string }
  | { k: "month" | "longMonth" | "numMonth" | "zeroMonth" | "weekDay" | "longWeekDay" | "day" | "underDay" | "zeroDay"
      | "underYearDay" | "zeroYearDay" | "hour" | "hour12" | "zeroHour12" | "minute" | "zeroMinute" | "second"
      | "zeroSecond" | "longYear" | "year" | "PM" | "pm" | "tz" | "iso" }
  | { k: "num"; fmt: string }
  | { k: "frac"; n: number; trim: boolean; sep: string };

function startsWithLower(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x61 && c <= 0x7a;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** Go's nextStdChunk, over the whole layout. */
function chunks(layout: string): Std[] {
  const out: Std[] = [];
  let lit = "";
  const push = (s: Std, skip: number): number => {
    if (lit !== "") out.push({ k: "lit", s: lit });
    lit = "";
    out.push(s);
    return skip;
  };
  for (let i = 0; i < layout.length; ) {
    const c = layout[i]!;
    const rest = layout.slice(i);
    let used = 0;
    switch (c) {
      case "J":
        if (rest.startsWith("Jan")) {
          if (rest.startsWith("January")) used = push({ k: "longMonth" }, 7);
          else if (!startsWithLower(rest, 3)) used = push({ k: "month" }, 3);
        }
        break;
      case "M":
        if (rest.startsWith("Mon")) {
          if (rest.startsWith("Monday")) used = push({ k: "longWeekDay" }, 6);
          else if (!startsWithLower(rest, 3)) used = push({ k: "weekDay" }, 3);
        }
        if (used === 0 && rest.startsWith("MST")) used = push({ k: "tz" }, 3);
        break;
      case "0":
        if (rest.length >= 2 && rest[1]! >= "1" && rest[1]! <= "6") {
          const k = (["zeroMonth", "zeroDay", "zeroHour12", "zeroMinute", "zeroSecond", "year"] as const)[rest.charCodeAt(1) - 0x31]!;
          used = push({ k }, 2);
        } else if (rest.length >= 3 && rest[1] === "0" && rest[2] === "2") used = push({ k: "zeroYearDay" }, 3);
        break;
      case "1":
        used = rest.length >= 2 && rest[1] === "5" ? push({ k: "hour" }, 2) : push({ k: "numMonth" }, 1);
        break;
      case "2":
        used = rest.startsWith("2006") ? push({ k: "longYear" }, 4) : push({ k: "day" }, 1);
        break;
      case "_":
        if (rest.length >= 2 && rest[1] === "2") {
          if (rest.startsWith("2006", 1)) {
            lit += "_";
            used = push({ k: "longYear" }, 5);
          } else used = push({ k: "underDay" }, 2);
        } else if (rest.length >= 3 && rest[1] === "_" && rest[2] === "2") used = push({ k: "underYearDay" }, 3);
        break;
      case "3":
        used = push({ k: "hour12" }, 1);
        break;
      case "4":
        used = push({ k: "minute" }, 1);
        break;
      case "5":
        used = push({ k: "second" }, 1);
        break;
      case "P":
        if (rest.length >= 2 && rest[1] === "M") used = push({ k: "PM" }, 2);
        break;
      case "p":
        if (rest.length >= 2 && rest[1] === "m") used = push({ k: "pm" }, 2);
        break;
      case "-":
        for (const t of ["-070000", "-07:00:00", "-0700", "-07:00", "-07"]) {
          if (rest.startsWith(t)) {
            used = push({ k: "num", fmt: t }, t.length);
            break;
          }
        }
        break;
      case "Z":
        for (const t of ["Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07"]) {
          if (rest.startsWith(t)) {
            used = push({ k: "iso" }, t.length);
            break;
          }
        }
        break;
      case ".":
      case ",":
        if (rest.length >= 2 && (rest[1] === "0" || rest[1] === "9")) {
          const ch = rest[1];
          let j = 1;
          while (j < rest.length && rest[j] === ch) j++;
          if (!isDigitAt(rest, j)) used = push({ k: "frac", n: j - 1, trim: ch === "9", sep: c }, j);
        }
        break;
    }
    if (used === 0) {
      lit += c;
      i++;
    } else i += used;
  }
  if (lit !== "") out.push({ k: "lit", s: lit });
  return out;
}

const layoutCache = new Map<string, Std[]>();

/** time.Time.Format for a UTC time given in milliseconds. */
export function formatTime(ms: number, layout: string): string {
  let cs = layoutCache.get(layout);
  if (cs === undefined) {
    cs = chunks(layout);
    if (layoutCache.size > 256) layoutCache.clear();
    layoutCache.set(layout, cs);
  }
  const p = parts(ms);
  let b = "";
  for (const c of cs) {
    switch (c.k) {
      case "lit": b += c.s; break;
      case "year": b += pad(p.year % 100, 2); break;
      case "longYear": b += pad(p.year, 4); break;
      case "month": b += MONTHS[p.month - 1]!.slice(0, 3); break;
      case "longMonth": b += MONTHS[p.month - 1]; break;
      case "numMonth": b += p.month; break;
      case "zeroMonth": b += pad(p.month, 2); break;
      case "weekDay": b += DAYS[p.wday]!.slice(0, 3); break;
      case "longWeekDay": b += DAYS[p.wday]; break;
      case "day": b += p.day; break;
      case "underDay": b += (p.day < 10 ? " " : "") + p.day; break;
      case "zeroDay": b += pad(p.day, 2); break;
      case "underYearDay": b += String(p.yday).padStart(3, " "); break;
      case "zeroYearDay": b += pad(p.yday, 3); break;
      case "hour": b += pad(p.hour, 2); break;
      case "hour12": b += p.hour % 12 === 0 ? 12 : p.hour % 12; break;
      case "zeroHour12": b += pad(p.hour % 12 === 0 ? 12 : p.hour % 12, 2); break;
      case "minute": b += p.min; break;
      case "zeroMinute": b += pad(p.min, 2); break;
      case "second": b += p.sec; break;
      case "zeroSecond": b += pad(p.sec, 2); break;
      case "PM": b += p.hour >= 12 ? "PM" : "AM"; break;
      case "pm": b += p.hour >= 12 ? "pm" : "am"; break;
      case "tz": b += "UTC"; break;
      case "iso": b += "Z"; break;
      case "num": {
        const f = c.fmt;
        b += f === "-070000" ? "+000000" : f === "-07:00:00" ? "+00:00:00" : f === "-0700" ? "+0000" : f === "-07:00" ? "+00:00" : "+00";
        break;
      }
      case "frac": {
        if (c.trim && (c.n === 0 || p.nsec === 0)) break;
        let s = c.sep + String(p.nsec).padStart(9, "0").slice(0, c.n);
        if (c.trim) {
          s = s.replace(/0+$/, "");
          if (s === c.sep) s = "";
        }
        b += s;
        break;
      }
    }
  }
  return b;
}

/** time.Time.String() */
export function timeString(ms: number): string {
  return formatTime(ms, "2006-01-02 15:04:05.999999999 -0700 MST");
}

TIME_T.stringer = (v) => timeString(msOf(v));
TIME_T.goStringer = (v) => {
  const p = parts(msOf(v));
  return `time.Date(${p.year}, time.${MONTHS[p.month - 1]}, ${p.day}, ${p.hour}, ${p.min}, ${p.sec}, ${p.nsec}, time.UTC)`;
};

function m(params: GoType[], result: GoType, call: (recv: GoValue, args: GoValue[]) => GoValue): Method {
  return { params, result, returnsError: false, call };
}

const floorDiv = (a: number, b: number) => Math.floor(a / b);

TIME_T.methods = {
  Unix: m([], INT64, (r) => new GoBox(INT64, BigInt(floorDiv(msOf(r), 1000)))),
  UnixMilli: m([], INT64, (r) => new GoBox(INT64, BigInt(msOf(r)))),
  UnixNano: m([], INT64, (r) => new GoBox(INT64, BigInt(msOf(r)) * 1000000n)),
  Year: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).year))),
  Month: m([], MONTH_T, (r) => new GoBox(MONTH_T, BigInt(parts(msOf(r)).month))),
  Day: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).day))),
  Hour: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).hour))),
  Minute: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).min))),
  Second: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).sec))),
  Nanosecond: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).nsec))),
  YearDay: m([], INT, (r) => new GoBox(INT, BigInt(parts(msOf(r)).yday))),
  Weekday: m([], WEEKDAY_T, (r) => new GoBox(WEEKDAY_T, BigInt(parts(msOf(r)).wday))),
  UTC: m([], TIME_T, (r) => goTime(msOf(r))),
  IsZero: m([], BOOL, () => false),
  String: m([], STRING, (r) => timeString(msOf(r))),
  Format: m([STRING], STRING, (r, a) => formatTime(msOf(r), a[0] as string)),
};
