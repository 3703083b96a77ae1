// What Thanos' querier makes of a store's series, before PromQL: the oracle for shared/query/series.ts.
// It asks a StoreAPI (gRPC) for series as Thanos' querier does (aggregates chosen by the selector's
// function, max_resolution_window) and reads each through Thanos' own query.NewPromSeriesSet
// (pkg/query/iter.go: the aggregate per function, the counter-resets iterator, average of sum/count,
// chunk chaining, bounds), printing every sample.
//
//	thanos-series-iter STORE_ADDR REQUEST_JSON
//
// REQUEST_JSON: {"mint": ms, "maxt": ms, "maxRes": ms, "func": "rate", "matchers": [["=", "name", "value"], ...]}
// Output: one JSON array of {"labels": "{...}", "samples": [[t, "value bits in hex" | "stale"]], "err": ""}.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	// Registers Thanos' non-pooling gRPC codec, as every Thanos component has it: storepb's Chunk and
	// labels unmarshal zero-copy, and grpc-go's default codec hands the received buffer back to its pool
	// right after Unmarshal, so without it a chunk's bytes could be overwritten by the next message
	// before they are read (seen once as "sum and count timestamps not aligned" under load).
	_ "github.com/thanos-io/thanos/pkg/extgrpc"
	"github.com/thanos-io/thanos/pkg/query"
	"github.com/thanos-io/thanos/pkg/store/storepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Thanos' aggrsFromFunc (pkg/query/querier.go, unexported there).
func aggrsFromFunc(f string) []storepb.Aggr {
	if f == "min" || strings.HasPrefix(f, "min_") {
		return []storepb.Aggr{storepb.Aggr_MIN}
	}
	if f == "max" || strings.HasPrefix(f, "max_") {
		return []storepb.Aggr{storepb.Aggr_MAX}
	}
	if f == "count" || strings.HasPrefix(f, "count_") {
		return []storepb.Aggr{storepb.Aggr_COUNT}
	}
	if strings.HasPrefix(f, "sum_") {
		return []storepb.Aggr{storepb.Aggr_SUM}
	}
	if f == "increase" || f == "rate" || f == "irate" || f == "resets" || f == "xincrease" || f == "xrate" {
		return []storepb.Aggr{storepb.Aggr_COUNTER}
	}
	return []storepb.Aggr{storepb.Aggr_COUNT, storepb.Aggr_SUM}
}

type seriesSet struct {
	s []storepb.Series
	i int
}

func (x *seriesSet) Next() bool { x.i++; return x.i <= len(x.s) }
func (x *seriesSet) At() (labels.Labels, []storepb.AggrChunk) {
	s := x.s[x.i-1]
	return s.PromLabels(), s.Chunks
}
func (x *seriesSet) Err() error { return nil }

type request struct {
	Mint     int64      `json:"mint"`
	Maxt     int64      `json:"maxt"`
	MaxRes   int64      `json:"maxRes"`
	Func     string     `json:"func"`
	Matchers [][]string `json:"matchers"`
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: thanos-series-iter STORE_ADDR REQUEST_JSON")
		os.Exit(2)
	}
	var r request
	if err := json.Unmarshal([]byte(os.Args[2]), &r); err != nil {
		fail("request", err)
	}
	types := map[string]storepb.LabelMatcher_Type{"=": storepb.LabelMatcher_EQ, "!=": storepb.LabelMatcher_NEQ, "=~": storepb.LabelMatcher_RE, "!~": storepb.LabelMatcher_NRE}
	var ms []storepb.LabelMatcher
	for _, m := range r.Matchers {
		ms = append(ms, storepb.LabelMatcher{Type: types[m[0]], Name: m[1], Value: m[2]})
	}
	conn, err := grpc.NewClient(os.Args[1], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail("dial", err)
	}
	aggrs := aggrsFromFunc(r.Func)
	stream, err := storepb.NewStoreClient(conn).Series(context.Background(), &storepb.SeriesRequest{
		MinTime: r.Mint, MaxTime: r.Maxt, Matchers: ms, MaxResolutionWindow: r.MaxRes, Aggregates: aggrs,
		PartialResponseStrategy: storepb.PartialResponseStrategy_ABORT,
	})
	if err != nil {
		fail("Series", err)
	}
	var all []storepb.Series
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("Series stream", err)
		}
		if w := resp.GetWarning(); w != "" {
			fail("Series warning", fmt.Errorf("%s", w))
		}
		if s := resp.GetSeries(); s != nil {
			// The received message's strings and bytes alias the stream's buffer, which the next
			// Recv reuses: keep copies.
			for i := range s.Labels {
				s.Labels[i].Name = strings.Clone(s.Labels[i].Name)
				s.Labels[i].Value = strings.Clone(s.Labels[i].Value)
			}
			for i := range s.Chunks {
				c := &s.Chunks[i]
				for _, x := range []*storepb.Chunk{c.Raw, c.Count, c.Sum, c.Min, c.Max, c.Counter} {
					if x != nil {
						x.Data = bytes.Clone(x.Data)
					}
				}
			}
			all = append(all, *s)
		}
	}
	type out struct {
		Labels  string `json:"labels"`
		Samples [][2]string `json:"samples"`
		Err     string `json:"err"`
	}
	res := []out{}
	set := query.NewPromSeriesSet(&seriesSet{s: all}, r.Mint, r.Maxt, aggrs, nil)
	for set.Next() {
		s := set.At()
		o := out{Labels: s.Labels().String(), Samples: [][2]string{}}
		it := s.Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			t, v := it.At()
			bits := strconv.FormatUint(math.Float64bits(v), 16)
			if value.IsStaleNaN(v) {
				bits = "stale"
			}
			o.Samples = append(o.Samples, [2]string{strconv.FormatInt(t, 10), bits})
		}
		if err := it.Err(); err != nil {
			o.Err = err.Error()
		}
		res = append(res, o)
	}
	j, _ := json.Marshal(res)
	fmt.Println(string(j))
}
