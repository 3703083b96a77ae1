// PLACEHOLDER interface; the matcher implementation replaces this file (keeping these exports).
export type MatchType = "=" | "!=" | "=~" | "!~";
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  matches(v: string): boolean;
}
