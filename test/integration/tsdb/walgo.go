// Prometheus 2.42's own WAL code (tsdb/wlog, tsdb/record) as an oracle for our WAL
// (test/integration/tsdb-wal-go.test.ts builds and runs this once, cached by test/lib/gobuild.ts).
//
//	walgo frame  DIR SEGSIZE COMPRESS   stdin: one Log call per line, records as space-separated hex
//	walgo read   DIR                    prints every record (checkpoint, then segments) as JSON lines
//	walgo repair DIR                    what tsdb.Open does on a damaged WAL: read, then WL.Repair
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-kit/log"
	"github.com/pkg/errors"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

type out struct {
	Where   string              `json:"where,omitempty"`
	Series  []map[string]any    `json:"series,omitempty"`
	Samples [][3]string         `json:"samples,omitempty"`
	Type    string              `json:"type,omitempty"`
	Err     string              `json:"err,omitempty"`
	Segment *int                `json:"segment,omitempty"`
	Offset  *int64              `json:"offset,omitempty"`
	Extra   map[string]any      `json:"extra,omitempty"`
}

func emit(o out) {
	b, _ := json.Marshal(o)
	fmt.Println(string(b))
}

func decode(where string, rec []byte) {
	var dec record.Decoder
	switch dec.Type(rec) {
	case record.Series:
		ss, err := dec.Series(rec, nil)
		if err != nil {
			emit(out{Where: where, Err: "decode series: " + err.Error()})
			return
		}
		o := out{Where: where, Type: "series"}
		for _, s := range ss {
			o.Series = append(o.Series, map[string]any{"ref": uint64(s.Ref), "labels": s.Labels.Map()})
		}
		emit(o)
	case record.Samples:
		ss, err := dec.Samples(rec, nil)
		if err != nil {
			emit(out{Where: where, Err: "decode samples: " + err.Error()})
			return
		}
		o := out{Where: where, Type: "samples", Samples: [][3]string{}}
		for _, s := range ss {
			o.Samples = append(o.Samples, [3]string{strconv.FormatUint(uint64(s.Ref), 10), strconv.FormatInt(s.T, 10), fmt.Sprintf("%016x", math.Float64bits(s.V))})
		}
		emit(o)
	default:
		emit(out{Where: where, Type: dec.Type(rec).String()})
	}
}

func readAll(dir string) error {
	cpdir, cpidx, err := wlog.LastCheckpoint(dir)
	start := 0
	if err == nil {
		sr, err := wlog.NewSegmentsReader(cpdir)
		if err != nil {
			return err
		}
		r := wlog.NewReader(sr)
		for r.Next() {
			decode("checkpoint", r.Record())
		}
		sr.Close()
		if r.Err() != nil {
			return r.Err()
		}
		start = cpidx + 1
	} else if err != record.ErrNotFound {
		return err
	}
	_, last, err := wlog.Segments(dir)
	if err != nil {
		return err
	}
	for i := start; i <= last; i++ {
		s, err := wlog.OpenReadSegment(wlog.SegmentName(dir, i))
		if err != nil {
			return err
		}
		sr := wlog.NewSegmentBufReader(s)
		r := wlog.NewReader(sr)
		for r.Next() {
			decode(fmt.Sprintf("segment %d", i), r.Record())
		}
		sr.Close()
		if r.Err() != nil {
			return r.Err()
		}
	}
	return nil
}

func reportErr(err error) {
	o := out{Err: err.Error()}
	var cerr *wlog.CorruptionErr
	if errors.As(err, &cerr) {
		o.Segment = &cerr.Segment
		o.Offset = &cerr.Offset
	}
	emit(o)
}

func main() {
	switch os.Args[1] {
	case "frame":
		dir := os.Args[2]
		size, _ := strconv.Atoi(os.Args[3])
		w, err := wlog.NewSize(nil, nil, dir, size, os.Args[4] == "1")
		if err != nil {
			panic(err)
		}
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 1<<20), 1<<30)
		for sc.Scan() {
			var recs [][]byte
			for _, h := range strings.Fields(sc.Text()) {
				b, err := hex.DecodeString(h)
				if err != nil {
					panic(err)
				}
				recs = append(recs, b)
			}
			if err := w.Log(recs...); err != nil {
				panic(err)
			}
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
	case "read":
		if err := readAll(os.Args[2]); err != nil {
			reportErr(err)
		}
	case "repair":
		// tsdb.Open: the WAL is opened (a new segment after the last), the head replays it, and on a
		// corruption error the WAL is repaired.
		dir := os.Args[2]
		w, err := wlog.NewSize(log.NewNopLogger(), nil, dir, wlog.DefaultSegmentSize, false)
		if err != nil {
			panic(err)
		}
		readErr := func() error {
			_, last, err := wlog.Segments(dir)
			if err != nil {
				return err
			}
			first, _, _ := wlog.Segments(dir)
			for i := first; i <= last; i++ {
				s, err := wlog.OpenReadSegment(wlog.SegmentName(dir, i))
				if err != nil {
					return err
				}
				sr := wlog.NewSegmentBufReader(s)
				r := wlog.NewReader(sr)
				for r.Next() {
				}
				sr.Close()
				if r.Err() != nil {
					return r.Err()
				}
			}
			return nil
		}()
		if readErr != nil {
			reportErr(readErr)
			if err := w.Repair(readErr); err != nil {
				emit(out{Err: "repair: " + err.Error()})
			}
		}
		w.Close()
		entries, _ := os.ReadDir(dir)
		names := []string{}
		for _, e := range entries {
			names = append(names, filepath.Base(e.Name()))
		}
		emit(out{Type: "files", Extra: map[string]any{"names": names}})
	}
}
