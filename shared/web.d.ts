// The fetch API as shared/ may use it: WHATWG Fetch (Request, Response, Headers, fetch), URL, Streams
// and Compression Streams. Every runtime shared/ targets has these, identically: Bun, Deno, Node >= 20
// and workerd. They are the seam hono and Connect serve through, so the HTTP API, the StoreAPI routes and
// clients, and the UI live in shared/ and each runtime adds only a thin adapter (the Bun and Deno
// HTTP servers, a Worker's fetch export, Node's HTTP/2 module for gRPC).
//
// Declared member by member, only what shared/ uses, with lib.dom.d.ts' signatures: code that compiles
// here also compiles against the full DOM, Bun or Workers types (the root tsconfig checks shared/ again
// with those, and leaves this file out). Runtime-specific APIs (Bun's, Deno's and Node's own modules, Workers bindings,
// caches) stay out of shared/.

type HeadersInit = [string, string][] | Record<string, string> | Headers;
type BodyInit = ReadableStream<Uint8Array> | Blob | Uint8Array<ArrayBuffer> | ArrayBuffer | URLSearchParams | FormData | string;

interface Headers {
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callbackfn: (value: string, key: string, parent: Headers) => void): void;
}
declare var Headers: { prototype: Headers; new (init?: HeadersInit): Headers };

interface Body {
  readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  arrayBuffer(): Promise<ArrayBuffer>;
  formData(): Promise<FormData>;
  json(): Promise<any>;
  text(): Promise<string>;
}

interface RequestInit {
  body?: BodyInit | null;
  headers?: HeadersInit;
  method?: string;
  redirect?: "error" | "follow" | "manual";
  signal?: AbortSignal | null;
}
interface Request extends Body {
  readonly headers: Headers;
  readonly method: string;
  readonly signal: AbortSignal;
  readonly url: string;
}
type RequestInfo = Request | string;
declare var Request: { prototype: Request; new (input: RequestInfo | URL, init?: RequestInit): Request };

interface ResponseInit {
  headers?: HeadersInit;
  status?: number;
  statusText?: string;
}
interface Response extends Body {
  readonly headers: Headers;
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
}
declare var Response: {
  prototype: Response;
  new (body?: BodyInit | null, init?: ResponseInit): Response;
  json(data: any, init?: ResponseInit): Response;
};

declare function fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;

interface FormData {
  entries(): IterableIterator<[string, FormDataEntryValue]>;
}
type FormDataEntryValue = Blob | string;

interface URLSearchParams {
  append(name: string, value: string): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  toString(): string;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}
declare var URLSearchParams: {
  prototype: URLSearchParams;
  new (init?: string[][] | Record<string, string> | string | URLSearchParams): URLSearchParams;
};

interface URL {
  hash: string;
  host: string;
  hostname: string;
  href: string;
  readonly origin: string;
  password: string;
  pathname: string;
  port: string;
  protocol: string;
  search: string;
  readonly searchParams: URLSearchParams;
  username: string;
  toString(): string;
}
declare var URL: { prototype: URL; new (url: string | URL, base?: string | URL): URL };

interface Blob {
  readonly size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  stream(): ReadableStream<Uint8Array<ArrayBuffer>>;
}
declare var Blob: { prototype: Blob; new (blobParts?: (ArrayBuffer | Uint8Array<ArrayBuffer> | Blob | string)[]): Blob };

interface ReadableStreamReadResult<T> { done: boolean; value?: T }
interface ReadableStreamDefaultReader<R = any> {
  read(): Promise<ReadableStreamReadResult<R>>;
  cancel(reason?: any): Promise<void>;
  releaseLock(): void;
}
interface ReadableStreamDefaultController<R = any> {
  close(): void;
  enqueue(chunk?: R): void;
  error(e?: any): void;
}
interface UnderlyingDefaultSource<R = any> {
  cancel?: (reason?: any) => void | PromiseLike<void>;
  pull?: (controller: ReadableStreamDefaultController<R>) => void | PromiseLike<void>;
  start?: (controller: ReadableStreamDefaultController<R>) => any;
  type?: undefined;
}
interface QueuingStrategy { highWaterMark?: number }
interface ReadableWritablePair<R = any, W = any> { readable: ReadableStream<R>; writable: WritableStream<W> }
interface ReadableStream<R = any> {
  readonly locked: boolean;
  cancel(reason?: any): Promise<void>;
  getReader(): ReadableStreamDefaultReader<R>;
  pipeThrough<T>(transform: ReadableWritablePair<T, R>): ReadableStream<T>;
  [Symbol.asyncIterator](): AsyncIterableIterator<R>;
}
declare var ReadableStream: {
  prototype: ReadableStream;
  new <R = any>(underlyingSource: UnderlyingDefaultSource<R>, strategy?: QueuingStrategy): ReadableStream<R>;
};
interface WritableStream<W = any> {
  readonly locked: boolean;
}
interface TransformStreamDefaultController<O = any> {
  enqueue(chunk?: O): void;
  error(reason?: any): void;
  terminate(): void;
}
interface Transformer<I = any, O = any> {
  flush?: (controller: TransformStreamDefaultController<O>) => void | PromiseLike<void>;
  transform?: (chunk: I, controller: TransformStreamDefaultController<O>) => void | PromiseLike<void>;
}
interface TransformStream<I = any, O = any> {
  readonly readable: ReadableStream<O>;
  readonly writable: WritableStream<I>;
}
declare var TransformStream: { prototype: TransformStream; new <I = any, O = any>(transformer?: Transformer<I, O>): TransformStream<I, O> };

type CompressionFormat = "deflate" | "deflate-raw" | "gzip";
interface CompressionStream extends ReadableWritablePair<Uint8Array<ArrayBuffer>, BufferSource> {}
type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer;
declare var CompressionStream: { prototype: CompressionStream; new (format: CompressionFormat): CompressionStream };

// Timeouts and combined signals for outgoing calls (AbortSignal itself is in globals.d.ts).
declare var AbortSignal: {
  prototype: AbortSignal;
  timeout(milliseconds: number): AbortSignal;
  any(signals: AbortSignal[]): AbortSignal;
};

declare function btoa(data: string): string;
