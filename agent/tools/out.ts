// Buffered stdout with backpressure: tools print millions of lines.
export function writeOut(stream: NodeJS.WriteStream = process.stdout): { write(s: string): Promise<void>; end(): Promise<void> } {
  let buf = "";
  const flush = async () => {
    if (buf === "") return;
    const s = buf;
    buf = "";
    if (!stream.write(s)) await new Promise<void>((r) => stream.once("drain", () => r()));
  };
  return {
    write: async (s) => { buf += s; if (buf.length >= 1 << 16) await flush(); },
    end: flush,
  };
}
