// Test blocks built in memory with our writer (their validity against promtool is proven in
// test/integration/tsdb-promtool.test.ts).
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { XorAppender } from "../../../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom, type Labels } from "../../../shared/labels/labels.ts";
import { memoryBlockFiles, openBlock, type Block } from "../../../shared/tsdb/block.ts";
import { MemorySink, writeBlock, type WriterChunk } from "../../../shared/tsdb/writer.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";

export interface TestSeries { labels: Labels; ts: number[]; vs: number[] }

export function chunksOf(ts: number[], vs: number[], per = 120): WriterChunk[] {
  const out: WriterChunk[] = [];
  for (let i = 0; i < ts.length; i += per) {
    const a = new XorAppender();
    const end = Math.min(ts.length, i + per);
    for (let j = i; j < end; j++) a.append(ts[j]!, vs[j]!);
    out.push({ minTime: ts[i]!, maxTime: ts[end - 1]!, encoding: Encoding.XOR, data: a.bytes() });
  }
  return out;
}

/** n series: job in {a,b,c}, instance "i<k>", some with an extra "env" label; samples every 15 s. */
export function makeSeries(n: number, samples: number, t0 = 1_700_000_000_000): TestSeries[] {
  const out: TestSeries[] = [];
  for (let k = 0; k < n; k++) {
    const l: Record<string, string> = { __name__: k % 5 === 0 ? "up" : "metric", job: ["a", "b", "c"][k % 3]!, instance: `i${k}` };
    if (k % 4 === 0) l.env = k % 8 === 0 ? "prod" : "dev";
    const ts: number[] = [], vs: number[] = [];
    for (let j = 0; j < samples; j++) { ts.push(t0 + j * 15_000); vs.push(k * 1000 + j); }
    out.push({ labels: labelsFrom(l), ts, vs });
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}

export async function memoryBlock(series: TestSeries[], opts: { segmentSize?: number; ulid?: string } = {}): Promise<{ block: Block; sink: MemorySink; files: Map<string, Uint8Array> }> {
  const sink = new MemorySink();
  await writeBlock(sink, series.map((s) => ({ labels: s.labels, chunks: chunksOf(s.ts, s.vs) })), { ulid: opts.ulid ?? newUlid(), segmentSize: opts.segmentSize });
  const files = new Map<string, Uint8Array>();
  for (const k of sink.files.keys()) files.set(k, sink.file(k)!);
  const block = await openBlock(memoryBlockFiles((f) => files.get(f), "mem"));
  return { block, sink, files };
}

export async function openFiles(files: Map<string, Uint8Array>): Promise<Block> {
  return openBlock(memoryBlockFiles((f) => files.get(f), "mem"));
}
