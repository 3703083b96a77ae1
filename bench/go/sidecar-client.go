// Go clients for bench/sidecar.ts (SIDECAR_GO=1): the two reads as Thanos itself does them, so the
// sidecar is measured against the clients it serves in production and the client costs what Go costs.
//   client direct PROM_URL MINT MAXT CALLS       remote read of bench_metric, STREAMED_XOR_CHUNKS, read
//                                                 with Prometheus' own ChunkedReader (what a Thanos sidecar does)
//   client grpc ADDR MINT MAXT CALLS BATCH       StoreAPI Series over gRPC with upstream storepb and grpc-go,
//                                                 dialled as the Thanos querier dials its stores
// One JSON line per call: wall ms, this process's CPU ms, series, samples (from the XOR chunk headers).
// Built by the bench with the Go toolchain (go.mod written there: github.com/thanos-io/thanos v0.41.0).
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/thanos-io/thanos/pkg/store/storepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func cpuMs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func direct(url string, mint, maxt int64) (int, int) {
	req := &prompb.ReadRequest{
		Queries: []*prompb.Query{{StartTimestampMs: mint, EndTimestampMs: maxt,
			Matchers: []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "bench_metric"}}}},
		AcceptedResponseTypes: []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS},
	}
	raw, err := req.Marshal()
	if err != nil {
		fail(err)
	}
	hreq, _ := http.NewRequest("POST", url+"/api/v1/read", bytes.NewReader(snappy.Encode(nil, raw)))
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		fail(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		fail(fmt.Errorf("remote read: HTTP %d", res.StatusCode))
	}
	r := remote.NewChunkedReader(res.Body, config.DefaultChunkedReadLimit, nil)
	series, samples := 0, 0
	for {
		var m prompb.ChunkedReadResponse
		if err := r.NextProto(&m); err == io.EOF {
			break
		} else if err != nil {
			fail(err)
		}
		for _, s := range m.ChunkedSeries {
			series++
			for _, c := range s.Chunks {
				samples += int(binary.BigEndian.Uint16(c.Data))
			}
		}
	}
	return series, samples
}

func series(c storepb.StoreClient, mint, maxt, batch int64) (int, int) {
	stream, err := c.Series(context.Background(), &storepb.SeriesRequest{MinTime: mint, MaxTime: maxt, ResponseBatchSize: batch,
		Matchers: []storepb.LabelMatcher{{Type: storepb.LabelMatcher_EQ, Name: "__name__", Value: "bench_metric"}}})
	if err != nil {
		fail(err)
	}
	n, samples := 0, 0
	count := func(s *storepb.Series) {
		n++
		for _, c := range s.Chunks {
			samples += int(binary.BigEndian.Uint16(c.Raw.Data))
		}
	}
	for {
		r, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail(err)
		}
		if s := r.GetSeries(); s != nil {
			count(s)
		} else if b := r.GetBatch(); b != nil {
			for _, s := range b.Series {
				count(s)
			}
		} else if w := r.GetWarning(); w != "" {
			fail(fmt.Errorf("warning: %s", w))
		}
	}
	return n, samples
}

func main() {
	mode, target := os.Args[1], os.Args[2]
	mint, _ := strconv.ParseInt(os.Args[3], 10, 64)
	maxt, _ := strconv.ParseInt(os.Args[4], 10, 64)
	calls, _ := strconv.Atoi(os.Args[5])
	var run func() (int, int)
	switch mode {
	case "direct":
		run = func() (int, int) { return direct(target, mint, maxt) }
	case "grpc":
		batch, _ := strconv.ParseInt(os.Args[6], 10, 64)
		// As the Thanos querier dials its stores: no receive-size limit.
		conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(math.MaxInt32)))
		if err != nil {
			fail(err)
		}
		defer conn.Close()
		c := storepb.NewStoreClient(conn)
		run = func() (int, int) { return series(c, mint, maxt, batch) }
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
	enc := json.NewEncoder(os.Stdout)
	for i := 0; i < calls; i++ {
		c0, t0 := cpuMs(), time.Now()
		s, n := run()
		enc.Encode(map[string]any{"ms": float64(time.Since(t0).Microseconds()) / 1000, "cpu": cpuMs() - c0, "series": s, "samples": n})
	}
}
