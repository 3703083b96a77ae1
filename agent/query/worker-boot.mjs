// A query worker under Node: register tsx's loader, then load the TypeScript entry (agent/query/worker.ts).
// Bun starts worker.ts directly.
import { register } from "tsx/esm/api";
import { workerData } from "node:worker_threads";

register();
await import(workerData.entry);
