// How the agent was started, for help and error texts: `thanots` when it is the single binary
// (`npm run build` -> dist/thanots, a `bun build --compile` executable: named by the file it runs as),
// `bun run agent` when run from the sources.
import { basename } from "node:path";

const bun = (globalThis as { Bun?: { main: string } }).Bun;

/** True inside a `bun build --compile` executable (its modules live under /$bunfs/, B:/~BUN/ on Windows). */
export const COMPILED = bun !== undefined && (bun.main.startsWith("/$bunfs/") || /^[A-Z]:[\\/]~BUN[\\/]/.test(bun.main));

/** The command that runs a component: `thanots` (or the binary's file name) or `bun run agent`. */
export const PROGRAM = COMPILED ? basename(process.execPath).replace(/\.exe$/i, "") : "bun run agent";
