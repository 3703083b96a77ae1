// Entry point: `bun run agent <component> [--flags]`, or `thanots <component> [--flags]` as the single
// binary (`npm run build` -> dist/thanots). Help and errors name whichever was run (program.ts).
import { components } from "./components.ts";
import { PROGRAM } from "./program.ts";

function usage(): string {
  const names = Object.keys(components);
  const w = Math.max(...names.map((n) => n.length));
  return [
    `usage: ${PROGRAM} <component> [flags]   (${PROGRAM} <component> --help for its flags)`,
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
    const msg = err.message ?? String(e);
    if (err.code === "bad_data") {
      // A usage error (flags, config files): said as a command-line tool says it.
      console.error(`${PROGRAM} ${msg.startsWith(`${name}:`) ? msg : `${name}: ${msg}`}`);
      return 2;
    }
    console.error(`level=error component=${name} msg=${JSON.stringify(msg)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
