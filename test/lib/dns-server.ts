// A tiny authoritative DNS server on UDP loopback for discovery tests: answers A, AAAA and SRV queries
// from a table the test changes while it runs; unknown names get NXDOMAIN. Point the agents at it with
// THANOTS_DNS_SERVERS=127.0.0.1:<port> (agent/discovery/dns.ts).
import * as dgram from "node:dgram";

export interface DnsTable {
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
  srv: Map<string, { target: string; port: number }[]>;
}

export interface DnsServer {
  port: number;
  table: DnsTable;
  queries: number;
  close(): Promise<void>;
}

const A = 1, AAAA = 28, SRV = 33;

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, "").split(".").filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])), Buffer.from([0])]);
}

function readName(b: Buffer, off: number): { name: string; end: number } {
  const labels: string[] = [];
  for (;;) {
    const len = b[off]!;
    if (len === 0) return { name: labels.join(".").toLowerCase(), end: off + 1 };
    labels.push(b.subarray(off + 1, off + 1 + len).toString());
    off += 1 + len;
  }
}

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export async function startDnsServer(): Promise<DnsServer> {
  const table: DnsTable = { a: new Map(), aaaa: new Map(), srv: new Map() };
  const sock = dgram.createSocket("udp4");
  const srv: DnsServer = { port: 0, table, queries: 0, close: () => new Promise((r) => sock.close(() => r())) };
  sock.on("message", (msg, rinfo) => {
    srv.queries++;
    const id = msg.readUInt16BE(0);
    const q = readName(msg, 12);
    const qtype = msg.readUInt16BE(q.end);
    const question = msg.subarray(12, q.end + 4);
    const answers: Buffer[] = [];
    const rr = (type: number, rdata: Buffer) => {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      h.writeUInt16BE(type, 2); h.writeUInt16BE(1, 4); h.writeUInt32BE(5, 6); h.writeUInt16BE(rdata.length, 10);
      answers.push(h, rdata);
    };
    const known = table.a.has(q.name) || table.aaaa.has(q.name) || table.srv.has(q.name);
    let count = 0;
    if (qtype === A) for (const ip of table.a.get(q.name) ?? []) { rr(A, Buffer.from(ip.split(".").map(Number))); count++; }
    if (qtype === AAAA) for (const ip of table.aaaa.get(q.name) ?? []) { rr(AAAA, ipv6Bytes(ip)); count++; }
    if (qtype === SRV) {
      for (const s of table.srv.get(q.name) ?? []) {
        const d = Buffer.alloc(6);
        d.writeUInt16BE(0, 0); d.writeUInt16BE(1, 2); d.writeUInt16BE(s.port, 4);
        rr(SRV, Buffer.concat([d, encodeName(s.target)]));
        count++;
      }
    }
    const hdr = Buffer.alloc(12);
    hdr.writeUInt16BE(id, 0);
    hdr.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NXDOMAIN when unknown
    hdr.writeUInt16BE(1, 4); hdr.writeUInt16BE(count, 6);
    sock.send(Buffer.concat([hdr, question, ...answers]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  srv.port = sock.address().port;
  return srv;
}
