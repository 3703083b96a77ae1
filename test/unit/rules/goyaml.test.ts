// Go yaml.v2/v3 decoding rules that promtool's outputs depend on (the corpus comparison in
// test/integration/rules-promtool.test.ts covers them end to end; these pin the individual rules,
// with the texts yaml.v2 v2.4.0 / yaml.v3 v3.0.1 produce: each expected value was printed by a Go
// program decoding the same input with those packages).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { decodeGoYaml, goBool, goFloat, goInt, goMap, goNode, goSlice, goString, goStruct } from "../../../shared/encoding/goyaml.ts";
import { parseRules } from "../../../shared/rules/rulefmt.ts";

const T = goStruct("main.t", { s: goString, i: goInt, f: goFloat, b: goBool, l: goSlice(goString), m: goMap(goString), n: goNode });

test("a string field takes any scalar's text; 0x10 stays 0x10", () => {
  const r = decodeGoYaml("s: 0x10\n", T, { version: 2, strict: true });
  assert.equal(r.value, { s: "0x10" });
});

test("booleans: yaml.v2 reads YAML 1.1's yes/on, yaml.v3 only into a bool field", () => {
  assert.equal(decodeGoYaml("b: yes\n", T, { version: 2, strict: true }).value, { b: true });
  assert.equal(decodeGoYaml("b: on\n", T, { version: 3, strict: true }).value, { b: true });
  assert.is(decodeGoYaml("f: yes\n", T, { version: 2, strict: true }).error, "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!bool `yes` into float64");
  assert.is(decodeGoYaml("f: yes\n", T, { version: 3, strict: true }).error, "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `yes` into float64");
});

test("type errors: long values cut to 7 characters, collected in document order, decoding goes on", () => {
  const r = decodeGoYaml("i: abcdefghijkl\nl: {a: 1}\nzz: 1\ns: ok\n", T, { version: 3, strict: true });
  assert.is(r.error, "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `abcdefg...` into int\n  line 2: cannot unmarshal !!map into []string\n  line 3: field zz not found in type main.t");
  assert.equal((r.value as { s: string }).s, "ok");
});

test("repeated keys: yaml.v3 always, yaml.v2 strict in maps", () => {
  assert.is(decodeGoYaml("s: a\ns: b\n", T, { version: 3, strict: false }).error, 'yaml: unmarshal errors:\n  line 2: mapping key "s" already defined at line 1');
  assert.is(decodeGoYaml("m: {a: 1, a: 2}\n", T, { version: 2, strict: true }).error, 'yaml: unmarshal errors:\n  line 1: key "a" already set in map');
  assert.is(decodeGoYaml("s: a\ns: b\n", T, { version: 2, strict: true }).error, "yaml: unmarshal errors:\n  line 2: field s already set in type main.t");
});

test("nulls: yaml.v3 drops a null sequence element of a struct type, yaml.v2 keeps it", () => {
  const v3 = parseRules("groups:\n  - ~\n  - name: a\n");
  assert.equal(v3.groups.map((g) => g.name), ["a"]);
  const L = goStruct("main.x", { l: goSlice(goStruct("main.e", { a: goString })) });
  assert.equal(decodeGoYaml("l: [~, {a: b}]\n", L, { version: 2, strict: true }).value, { l: [null, { a: "b" }] });
});

test("yaml.Node fields keep the value's position; an empty document is no error", () => {
  const r = decodeGoYaml("x: 1\nn: 'quoted'\n", goStruct("main.t", { x: goInt, n: goNode }), { version: 3, strict: false });
  assert.equal((r.value as { n: unknown }).n, { kind: "scalar", value: "quoted", line: 2, column: 4 });
  const e = decodeGoYaml("# only a comment\n", T, { version: 3, strict: true });
  assert.is(e.error, null);
  assert.is(e.empty, true);
});

test.run();
