// Entry point: `bun run agent <component> [--flags]`.
import { components } from "./components.ts";

function usage(): string {
  const names = Object.keys(components);
  const w = Math.max(...names.map((n) => n.length));
  return [
    "usage: bun run agent <component> [flags]   (bun run agent <component> --help for its flags)",
    "",
    "components:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${components[n]!.summary}`),
  ].join("\n");
}

async function main(argv: string[]): Promise<number> {
  const name = argv[0];
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const c = components[name];
  if (!c) {
    console.error(`unknown component ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  let mod;
  try {
    mod = await c.load();
  } catch (e) {
    console.error(`component ${name} is not available in this build: ${(e as Error).message}`);
    return 2;
  }
  try {
    return (await mod.run(argv.slice(1))) ?? 0;
  } catch (e) {
    const err = e as { code?: string; message?: string };
    console.error(`level=error component=${name} msg=${JSON.stringify(err.message ?? String(e))}`);
    return err.code === "bad_data" ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
