// Thanos v0.41.0's own downsampler, for byte-level comparison with shared/compact/downsample.ts and as
// the peer in bench/downsample.ts. It does what the compactor's processDownsampling
// (cmd/thanos/downsample.go) does to a downloaded block, minus the upload: open the block with the
// chunk pool its resolution needs, downsample.Downsample into OUT_DIR, gather the output index's health
// stats and record series/chunk max sizes in meta.json.
//
//	thanos-downsample IN_BLOCK_DIR OUT_DIR RESOLUTION_MS [REPEAT]
//
// Prints one JSON line: {"ulid": "...", "ns": [wall ns of each run], "cpu_ns": [CPU ns of each run,
// user + system of the whole process, GC threads included], "samples": N}; with REPEAT > 1 every run but
// the last has its output removed (the bench times repeated runs).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/thanos-io/thanos/pkg/block"
	"github.com/thanos-io/thanos/pkg/block/metadata"
	"github.com/thanos-io/thanos/pkg/compact/downsample"
)

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: thanos-downsample IN_BLOCK_DIR OUT_DIR RESOLUTION_MS [REPEAT]")
		os.Exit(2)
	}
	in, out := os.Args[1], os.Args[2]
	res, err := strconv.ParseInt(os.Args[3], 10, 64)
	if err != nil {
		fail("resolution", err)
	}
	repeat := 1
	if len(os.Args) > 4 {
		if repeat, err = strconv.Atoi(os.Args[4]); err != nil || repeat < 1 {
			fail("repeat", fmt.Errorf("%q is not a positive integer", os.Args[4]))
		}
	}
	ctx := context.Background()
	logger := log.NewNopLogger()
	m, err := metadata.ReadFromDir(in)
	if err != nil {
		fail("read meta", err)
	}
	var pool chunkenc.Pool
	if m.Thanos.Downsample.Resolution == 0 {
		pool = chunkenc.NewPool()
	} else {
		pool = downsample.NewPool()
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		fail("mkdir", err)
	}
	var times, cpu []int64
	cpuNow := func() int64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			fail("getrusage", err)
		}
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	var id string
	for i := 0; i < repeat; i++ {
		b, err := tsdb.OpenBlock(slog.New(slog.DiscardHandler), in, pool, nil)
		if err != nil {
			fail("open block", err)
		}
		begin, c0 := time.Now(), cpuNow()
		uid, err := downsample.Downsample(ctx, logger, m, b, out, res)
		times = append(times, time.Since(begin).Nanoseconds())
		cpu = append(cpu, cpuNow()-c0)
		b.Close()
		if err != nil {
			fail("downsample", err)
		}
		id = uid.String()
		if i < repeat-1 {
			os.RemoveAll(filepath.Join(out, id))
		}
	}
	resdir := filepath.Join(out, id)
	stats, err := block.GatherIndexHealthStats(ctx, logger, filepath.Join(resdir, block.IndexFilename), m.MinTime, m.MaxTime)
	if err == nil {
		err = stats.AnyErr()
	}
	if err != nil {
		fail("output block index not valid", err)
	}
	meta, err := metadata.ReadFromDir(resdir)
	if err != nil {
		fail("read output meta", err)
	}
	if stats.ChunkMaxSize > 0 {
		meta.Thanos.IndexStats.ChunkMaxSize = stats.ChunkMaxSize
	}
	if stats.SeriesMaxSize > 0 {
		meta.Thanos.IndexStats.SeriesMaxSize = stats.SeriesMaxSize
	}
	if err := meta.WriteToDir(logger, resdir); err != nil {
		fail("write meta", err)
	}
	j, _ := json.Marshal(map[string]any{"ulid": id, "ns": times, "cpu_ns": cpu, "samples": meta.Stats.NumSamples})
	fmt.Println(string(j))
}
