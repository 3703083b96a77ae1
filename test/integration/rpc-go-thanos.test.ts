// Wire compatibility with Go Thanos itself, both directions, using upstream's own generated code
// (thanos-io/thanos v0.41.0 pkg/store/storepb + pkg/info/infopb, gogoproto) over google.golang.org/grpc:
//   1. a Go client calls our agent/grpc server: Series (one by one and in batches), LabelNames,
//      LabelValues, Info, an InvalidArgument error and a call without the token;
//   2. our gRPC client calls a Go StoreAPI server built on the upstream types.
// Needs the Go toolchain (`go` on PATH); the first run fetches modules through the Go module proxy and
// builds (about a minute), later runs reuse the binary cached under the OS temp dir.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { startProcess, tempDir, type Proc } from "../lib/proc.ts";
import { buildGo } from "../lib/gobuild.ts";
import { startGrpcServer, type GrpcServer } from "../../agent/grpc/server.ts";
import { createGrpcClients } from "../../agent/grpc/client.ts";
import { flattenSeries } from "../../shared/rpc/series.ts";
import { MAX_INT64, MIN_INT64 } from "../../shared/rpc/time.ts";
import { TOKEN, services, SERIES, expectedSeries, expectedInfo, hex } from "../unit/proto/storeapi-fixture.ts";

const run = promisify(execFile);

const GO_MOD = `module thanots/gointerop

go 1.25.0

require github.com/thanos-io/thanos v0.41.0
`;

const MAIN_GO = String.raw`// Go Thanos interop for thanots: upstream storepb/infopb (gogo) over google.golang.org/grpc.
//   interop client ADDR TOKEN           call our StoreAPI server, print what Go decoded as JSON
//   interop server TOKEN FIXTURE.json   serve FIXTURE with upstream types, print "LISTEN host:port"
package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	// Thanos' non-pooling gRPC codec, registered as in every Thanos component: storepb unmarshals
	// chunks and labels zero-copy, which grpc-go's pooling codec would let the next message overwrite.
	_ "github.com/thanos-io/thanos/pkg/extgrpc"
	"github.com/thanos-io/thanos/pkg/info/infopb"
	"github.com/thanos-io/thanos/pkg/store/labelpb"
	"github.com/thanos-io/thanos/pkg/store/storepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// JSON keys come from maps (no struct tags), so this source can live in a JS template string.
func norm(s *storepb.Series) map[string]any {
	labels, chunks := []string{}, []map[string]any{}
	for _, l := range s.Labels {
		labels = append(labels, l.Name+"="+l.Value)
	}
	for _, c := range s.Chunks {
		chunks = append(chunks, map[string]any{"min": strconv.FormatInt(c.MinTime, 10), "max": strconv.FormatInt(c.MaxTime, 10),
			"type": int(c.Raw.Type), "data": hex.EncodeToString(c.Raw.Data), "hash": strconv.FormatUint(c.Raw.Hash, 10)})
	}
	return map[string]any{"labels": labels, "chunks": chunks}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func client(addr, token string) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	sc := storepb.NewStoreClient(conn)
	res := map[string]any{}
	for _, batch := range []int64{0, 2} {
		stream, err := sc.Series(ctx, &storepb.SeriesRequest{MinTime: 1700000000000, MaxTime: 1700002250000, ResponseBatchSize: batch})
		if err != nil {
			fail(err)
		}
		series, warnings, batches := []map[string]any{}, []string{}, 0
		for {
			r, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				fail(err)
			}
			if s := r.GetSeries(); s != nil {
				series = append(series, norm(s))
			} else if b := r.GetBatch(); b != nil {
				batches++
				for _, s := range b.Series {
					series = append(series, norm(s))
				}
			} else {
				warnings = append(warnings, r.GetWarning())
			}
		}
		res[fmt.Sprintf("series%d", batch)] = map[string]any{"series": series, "warnings": warnings, "batches": batches}
	}
	ln, err := sc.LabelNames(ctx, &storepb.LabelNamesRequest{Start: 1700000000000, End: 1700002250000})
	if err != nil {
		fail(err)
	}
	res["labelNames"] = ln.Names
	lv, err := sc.LabelValues(ctx, &storepb.LabelValuesRequest{Label: "job"})
	if err != nil {
		fail(err)
	}
	res["labelValues"] = lv.Values
	_, err = sc.LabelValues(ctx, &storepb.LabelValuesRequest{Label: ""})
	res["badLabel"] = []string{status.Code(err).String(), status.Convert(err).Message()}
	_, err = sc.LabelNames(context.Background(), &storepb.LabelNamesRequest{})
	res["noToken"] = status.Code(err).String()
	info, err := infopb.NewInfoClient(conn).Info(ctx, &infopb.InfoRequest{})
	if err != nil {
		fail(err)
	}
	sets := [][]string{}
	for _, s := range info.LabelSets {
		ls := []string{}
		for _, l := range s.Labels {
			ls = append(ls, l.Name+"="+l.Value)
		}
		sets = append(sets, ls)
	}
	res["info"] = map[string]any{"componentType": info.ComponentType, "labelSets": sets, "minTime": strconv.FormatInt(info.Store.MinTime, 10),
		"maxTime": strconv.FormatInt(info.Store.MaxTime, 10), "supportsWithoutReplicaLabels": info.Store.SupportsWithoutReplicaLabels}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail(err)
	}
}

// Decoded case-insensitively from {"labels": [[n, v]], "chunks": [{"min", "max", "data" (hex), "hash"}]}.
type fixture []struct {
	Labels [][2]string
	Chunks []struct {
		Min  int64
		Max  int64
		Data string
		Hash string
	}
}

type store struct {
	token  string
	series []*storepb.Series
}

func (s *store) auth(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get("authorization"); len(v) == 1 && v[0] == "Bearer "+s.token {
		return nil
	}
	return status.Error(codes.Unauthenticated, "go store: bad token")
}

func (s *store) Series(r *storepb.SeriesRequest, srv storepb.Store_SeriesServer) error {
	if err := s.auth(srv.Context()); err != nil {
		return err
	}
	for _, x := range s.series {
		if err := srv.Send(storepb.NewSeriesResponse(x)); err != nil {
			return err
		}
	}
	return srv.Send(storepb.NewWarnSeriesResponse(fmt.Errorf("go warning")))
}

func (s *store) LabelNames(ctx context.Context, r *storepb.LabelNamesRequest) (*storepb.LabelNamesResponse, error) {
	if err := s.auth(ctx); err != nil {
		return nil, err
	}
	return &storepb.LabelNamesResponse{Names: []string{"__name__", "job"}}, nil
}

func (s *store) LabelValues(ctx context.Context, r *storepb.LabelValuesRequest) (*storepb.LabelValuesResponse, error) {
	if err := s.auth(ctx); err != nil {
		return nil, err
	}
	if r.Label == "" {
		return nil, status.Error(codes.InvalidArgument, "go store: label name: must not be empty")
	}
	return &storepb.LabelValuesResponse{Values: []string{"a", "b"}}, nil
}

func (s *store) Info(ctx context.Context, r *infopb.InfoRequest) (*infopb.InfoResponse, error) {
	if err := s.auth(ctx); err != nil {
		return nil, err
	}
	return &infopb.InfoResponse{ComponentType: "sidecar", LabelSets: []labelpb.ZLabelSet{{Labels: []labelpb.ZLabel{{Name: "replica", Value: "go"}}}},
		Store: &infopb.StoreInfo{MinTime: -9223372036854775808, MaxTime: 9223372036854775807, SupportsSharding: true}}, nil
}

func server(token, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		fail(err)
	}
	st := &store{token: token}
	for _, x := range f {
		s := &storepb.Series{}
		for _, l := range x.Labels {
			s.Labels = append(s.Labels, labelpb.ZLabel{Name: l[0], Value: l[1]})
		}
		for _, c := range x.Chunks {
			data, _ := hex.DecodeString(c.Data)
			h, _ := strconv.ParseUint(c.Hash, 10, 64)
			s.Chunks = append(s.Chunks, storepb.AggrChunk{MinTime: c.Min, MaxTime: c.Max, Raw: &storepb.Chunk{Type: storepb.Chunk_XOR, Data: data, Hash: h}})
		}
		st.series = append(st.series, s)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	g := grpc.NewServer()
	storepb.RegisterStoreServer(g, st)
	infopb.RegisterInfoServer(g, st)
	fmt.Printf("LISTEN %s\n", lis.Addr().String())
	if err := g.Serve(lis); err != nil {
		fail(err)
	}
}

// big: CALLS Series calls, each on a new connection dialled with grpc-go's defaults (dynamic windows,
// as the Thanos querier dials), each with a deadline, checking every chunk's first two bytes.
func big(addr string, calls int) {
	res := map[string]any{"ok": 0, "errors": []string{}}
	for i := 0; i < calls; i++ {
		err := func() error {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stream, err := storepb.NewStoreClient(conn).Series(ctx, &storepb.SeriesRequest{MaxTime: 1 << 40, ResponseBatchSize: 64})
			if err != nil {
				return err
			}
			n := 0
			for {
				r, err := stream.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					return fmt.Errorf("after %d series: %w", n, err)
				}
				list := []*storepb.Series{}
				if s := r.GetSeries(); s != nil {
					list = append(list, s)
				} else if b := r.GetBatch(); b != nil {
					list = b.Series
				}
				for _, s := range list {
					for _, c := range s.Chunks {
						if got := int(c.Raw.Data[0])<<8 | int(c.Raw.Data[1]); got != n&0xffff {
							return fmt.Errorf("series %d: chunk says %d", n, got)
						}
					}
					n++
				}
			}
			res["series"] = n
			return nil
		}()
		if err != nil {
			res["errors"] = append(res["errors"].([]string), fmt.Sprintf("call %d: %v", i, err))
		} else {
			res["ok"] = res["ok"].(int) + 1
		}
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func main() {
	if len(os.Args) >= 4 && os.Args[1] == "client" {
		client(os.Args[2], os.Args[3])
	} else if len(os.Args) >= 4 && os.Args[1] == "server" {
		server(os.Args[2], os.Args[3])
	} else if len(os.Args) >= 4 && os.Args[1] == "big" {
		calls, _ := strconv.Atoi(os.Args[3])
		big(os.Args[2], calls)
	} else {
		fail(fmt.Errorf("usage: interop client ADDR TOKEN | interop server TOKEN FIXTURE.json | interop big ADDR CALLS"))
	}
}
`;

const goBinary = () => buildGo("go-interop", GO_MOD, MAIN_GO);

let bin: string;
let ours: GrpcServer;
let goStore: Proc;
let goAddr: string;

test.before(async () => {
  bin = await goBinary();
  ours = await startGrpcServer(services, { token: TOKEN });
  const fixture = join(tempDir("go-fixture-").path, "fixture.json");
  writeFileSync(fixture, JSON.stringify(SERIES.map((s) => ({
    labels: s.labels,
    chunks: s.chunks.map((c) => ({ min: c.minTime, max: c.maxTime, data: hex(c.data), hash: String(c.hash ?? 0n) })),
  }))));
  goStore = startProcess(bin, ["server", TOKEN, fixture]);
  const deadline = Date.now() + 10_000;
  while (!/LISTEN (\S+)/.test(goStore.output())) {
    if (Date.now() > deadline || goStore.child.exitCode !== null) throw new Error(`Go store did not start: ${goStore.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  goAddr = /LISTEN (\S+)/.exec(goStore.output())![1]!;
});

test.after(async () => {
  await goStore?.stop();
  await ours?.close();
});

// Go's uint64 has no "absent": a missing hash reads as 0.
function goView(a: ReturnType<typeof expectedSeries>) {
  return { ...a, series: a.series.map((s) => ({ ...s, chunks: s.chunks.map((c) => ({ ...c, hash: c.hash ?? "0" })) })) };
}

test("a Go Thanos client (upstream storepb/infopb) reads our gRPC server", async () => {
  const { stdout } = await run(bin, ["client", ours.address, TOKEN], { timeout: 30_000 });
  const got = JSON.parse(stdout);
  const want = goView(expectedSeries(() => true));
  assert.equal(got.series0, { ...want, batches: 0 }, "one series per message");
  assert.equal(got.series2, { ...want, batches: 2 }, "response_batch_size 2: SeriesResponse.batch");
  assert.equal(got.labelNames, ["__name__", "job", "zone"]);
  assert.equal(got.labelValues, ["a", "b"]);
  assert.equal(got.info, expectedInfo);
  assert.equal(got.badLabel, ["InvalidArgument", "fixture store: label name must not be empty"]);
  assert.is(got.noToken, "Unauthenticated");
});

test("a Go client with grpc-go's default (dynamic) windows reads large answers from a Bun gRPC server, none hangs", async () => {
  // 10k series x 4 chunks x 800 B = 32 MB per call. grpc-go raises its windows with SETTINGS while the
  // answer streams; Bun's node:http2 server ignored that for the open stream and both ends waited
  // for ever in about 1 call of 10. Our HTTP/2 server (agent/grpc/h2server.ts) follows RFC 9113
  // §6.9.2. 12 calls, 30 s deadline each.
  const srv = startProcess(join(process.cwd(), "node_modules/.bin/bun"), [join(process.cwd(), "test/lib/big-grpc-server.ts"), "10000", "800"]);
  try {
    const deadline = Date.now() + 20_000;
    while (!/LISTEN (\S+)/.test(srv.output())) {
      if (Date.now() > deadline || srv.child.exitCode !== null) throw new Error(`Bun gRPC server did not start: ${srv.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const addr = /LISTEN (\S+)/.exec(srv.output())![1]!;
    const { stdout } = await run(bin, ["big", addr, "12"], { timeout: 400_000, maxBuffer: 1 << 24 });
    const got = JSON.parse(stdout) as { ok: number; errors: string[]; series: number };
    assert.equal(got.errors, [], "every call completes");
    assert.is(got.ok, 12);
    assert.is(got.series, 10_000);
  } finally {
    await srv.stop();
  }
});

test("our gRPC client reads a Go StoreAPI server built on upstream types", async () => {
  const c = createGrpcClients(goAddr, { token: TOKEN });
  try {
    const got: { labels: string[]; chunks: { min: string; max: string; data: string; hash: string | null }[] }[] = [];
    const warnings: string[] = [];
    for await (const r of flattenSeries(c.store.series({}))) {
      if (r.result.case === "series") {
        got.push({
          labels: r.result.value.labels.map((l) => `${l.name}=${l.value}`),
          chunks: r.result.value.chunks.map((ch) => ({ min: String(ch.minTime), max: String(ch.maxTime), data: hex(ch.raw!.data), hash: ch.raw!.hash === undefined ? null : String(ch.raw!.hash) })),
        });
      } else if (r.result.case === "warning") warnings.push(r.result.value);
    }
    // gogo omits a zero uint64, so hash 0 arrives as absent here.
    assert.equal(got, SERIES.map((s) => ({
      labels: s.labels.map(([n, v]) => `${n}=${v}`),
      chunks: s.chunks.map((ch) => ({ min: String(ch.minTime), max: String(ch.maxTime), data: hex(ch.data), hash: ch.hash ? String(ch.hash) : null })),
    })));
    assert.equal(warnings, ["go warning"]);
    assert.equal((await c.store.labelNames({})).names, ["__name__", "job"]);
    const info = await c.info.info({});
    assert.is(info.ComponentType, "sidecar");
    assert.is(info.store!.minTime, MIN_INT64, "Go's math.MinInt64 arrives exact");
    assert.is(info.store!.maxTime, MAX_INT64);
    assert.equal(info.labelSets.map((s) => s.labels.map((l) => `${l.name}=${l.value}`)), [["replica=go"]]);
    try {
      await c.store.labelValues({ label: "" });
      assert.unreachable("should fail");
    } catch (e) {
      assert.ok(e instanceof ConnectError && e.code === Code.InvalidArgument, String(e));
      assert.is(e.rawMessage, "go store: label name: must not be empty");
    }
  } finally {
    c.close();
  }
  const anon = createGrpcClients(goAddr);
  try {
    await anon.store.labelNames({});
    assert.unreachable("no token went through");
  } catch (e) {
    assert.ok(e instanceof ConnectError && e.code === Code.Unauthenticated, String(e));
  } finally {
    anon.close();
  }
});

test.run();
