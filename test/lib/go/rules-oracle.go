// rules-oracle: Prometheus 2.42's own rules engine (github.com/prometheus/prometheus/rules) driven by a
// JSON scenario on stdin, for differential tests of shared/rules (test/unit/rules/oracle.test.ts via
// test/lib/rules-oracle.ts). Each step evaluates every group at a timestamp (input samples up to it
// appended first, as promtool's lazy loader does), restores `for` state, or reloads rule files with
// CopyState. The output records, per step, each alerting rule's alerts and what was sent, each rule's
// health and error; at the end every series in storage (staleness markers included).
// Other modes: "hash" (Group.EvalTimestamp of file/name/interval at a time) and "relabel".
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"gopkg.in/yaml.v2"
)

type File struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

type Series struct {
	Labels  map[string]string `json:"labels"`
	Samples [][2]interface{}  `json:"samples"` // [t ms, v as a string: "NaN", "+Inf", "1.5"]
	Stale   []int64           `json:"stale"`   // timestamps of staleness markers
}

type Step struct {
	Action string `json:"action"` // eval | restore | reload
	T      int64  `json:"t"`
	Files  []File `json:"files"`
}

type Scenario struct {
	Mode           string            `json:"mode"`
	Files          []File            `json:"files"`
	IntervalMs     int64             `json:"interval_ms"`
	ExternalLabels map[string]string `json:"external_labels"`
	ExternalURL    string            `json:"external_url"`
	ResendDelayMs  int64             `json:"resend_delay_ms"`
	OutageTolMs    int64             `json:"outage_tolerance_ms"`
	GraceMs        int64             `json:"for_grace_period_ms"`
	Series         []Series          `json:"series"`
	Steps          []Step            `json:"steps"`
	// hash mode
	Hash []struct {
		File       string `json:"file"`
		Name       string `json:"name"`
		IntervalMs int64  `json:"interval_ms"`
		NowMs      int64  `json:"now_ms"`
	} `json:"hash"`
	// relabel mode
	Relabel []struct {
		Config string            `json:"config"`
		Labels map[string]string `json:"labels"`
	} `json:"relabel"`
}

type AlertOut struct {
	State           string            `json:"state"`
	Labels          map[string]string `json:"labels"`
	Annotations     map[string]string `json:"annotations"`
	Value           string            `json:"value"`
	ActiveAt        *int64            `json:"activeAt"`
	FiredAt         *int64            `json:"firedAt"`
	ResolvedAt      *int64            `json:"resolvedAt"`
	LastSentAt      *int64            `json:"lastSentAt"`
	ValidUntil      *int64            `json:"validUntil"`
	KeepFiringSince *int64            `json:"keepFiringSince"`
}

type RuleOut struct {
	Group     string     `json:"group"`
	Name      string     `json:"name"`
	Health    string     `json:"health"`
	LastError string     `json:"lastError"`
	State     string     `json:"state,omitempty"`
	Alerts    []AlertOut `json:"alerts,omitempty"`
	Restored  *bool      `json:"restored,omitempty"`
}

type Sent struct {
	Expr   string     `json:"expr"`
	Alerts []AlertOut `json:"alerts"`
}

type StepOut struct {
	Rules []RuleOut `json:"rules"`
	Sent  []Sent    `json:"sent"`
}

type SeriesOut struct {
	Labels  map[string]string `json:"labels"`
	Samples [][2]interface{}  `json:"samples"` // [t, value string | "stale"]
}

type Out struct {
	Steps   []StepOut   `json:"steps"`
	Storage []SeriesOut `json:"storage"`
	Error   string      `json:"error,omitempty"`
}

func ms(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := t.UnixNano() / 1e6
	return &v
}

func fmtFloat(v float64) string {
	if value.IsStaleNaN(v) {
		return "stale"
	}
	return fmt.Sprintf("%v", v)
}

func alertOut(a *rules.Alert) AlertOut {
	return AlertOut{
		State: a.State.String(), Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), Value: fmtFloat(a.Value),
		ActiveAt: ms(a.ActiveAt), FiredAt: ms(a.FiredAt), ResolvedAt: ms(a.ResolvedAt), LastSentAt: ms(a.LastSentAt),
		ValidUntil: ms(a.ValidUntil), KeepFiringSince: ms(a.KeepFiringSince),
	}
}

func sortAlerts(as []AlertOut) {
	sort.Slice(as, func(i, j int) bool {
		return labels.Compare(labels.FromMap(as[i].Labels), labels.FromMap(as[j].Labels)) < 0
	})
}

func die(err error) {
	json.NewEncoder(os.Stdout).Encode(Out{Error: err.Error()})
	os.Exit(0)
}

func main() {
	var sc Scenario
	if err := json.NewDecoder(os.Stdin).Decode(&sc); err != nil {
		die(err)
	}
	switch sc.Mode {
	case "hash":
		var out []int64
		for _, h := range sc.Hash {
			g := rules.NewGroup(rules.GroupOptions{Name: h.Name, File: h.File, Interval: time.Duration(h.IntervalMs) * time.Millisecond, Opts: &rules.ManagerOptions{}})
			out = append(out, g.EvalTimestamp(h.NowMs*1e6).UnixNano())
		}
		json.NewEncoder(os.Stdout).Encode(out)
		return
	case "relabel":
		var out []interface{}
		for _, r := range sc.Relabel {
			var cfgs []*relabel.Config
			if err := yaml.UnmarshalStrict([]byte(r.Config), &cfgs); err != nil {
				out = append(out, map[string]string{"error": err.Error()})
				continue
			}
			ls, keep := relabel.Process(labels.FromMap(r.Labels), cfgs...)
			if !keep {
				out = append(out, nil)
			} else {
				out = append(out, ls.Map())
			}
		}
		json.NewEncoder(os.Stdout).Encode(out)
		return
	}

	dir, err := os.MkdirTemp("", "rules-oracle-")
	if err != nil {
		die(err)
	}
	defer os.RemoveAll(dir)
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = 0
	opts.MinBlockDuration = int64(24 * time.Hour * 365 * 100 / time.Millisecond)
	opts.MaxBlockDuration = opts.MinBlockDuration
	db, err := tsdb.Open(filepath.Join(dir, "data"), nil, nil, opts, nil)
	if err != nil {
		die(err)
	}
	defer db.Close()
	interval := time.Duration(sc.IntervalMs) * time.Millisecond
	engine := promql.NewEngine(promql.EngineOpts{
		MaxSamples: 50000000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return sc.IntervalMs },
		EnableAtModifier: true, EnableNegativeOffset: true,
	})
	var sent []Sent
	mopts := &rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(engine, db),
		Appendable: db,
		Queryable:  db,
		Context:    context.Background(),
		NotifyFunc: func(ctx context.Context, expr string, alerts ...*rules.Alert) {
			if len(alerts) == 0 {
				return
			}
			s := Sent{Expr: expr}
			for _, a := range alerts {
				s.Alerts = append(s.Alerts, alertOut(a))
			}
			sortAlerts(s.Alerts)
			sent = append(sent, s)
		},
		Logger:          log.NewNopLogger(),
		OutageTolerance: time.Duration(sc.OutageTolMs) * time.Millisecond,
		ForGracePeriod:  time.Duration(sc.GraceMs) * time.Millisecond,
		ResendDelay:     time.Duration(sc.ResendDelayMs) * time.Millisecond,
	}
	m := rules.NewManager(mopts)
	load := func(files []File) ([]*rules.Group, error) {
		var paths []string
		for _, f := range files {
			p := filepath.Join(dir, f.Path)
			if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
				return nil, err
			}
			paths = append(paths, p)
		}
		gm, errs := m.LoadGroups(interval, labels.FromMap(sc.ExternalLabels), sc.ExternalURL, nil, paths...)
		if errs != nil {
			return nil, errs[0]
		}
		var gs []*rules.Group
		for _, g := range gm {
			gs = append(gs, g)
		}
		sort.Slice(gs, func(i, j int) bool { return rules.GroupKey(gs[i].File(), gs[i].Name()) < rules.GroupKey(gs[j].File(), gs[j].Name()) })
		return gs, nil
	}
	groups, err := load(sc.Files)
	if err != nil {
		die(err)
	}

	next := make([]int, len(sc.Series))
	nextStale := make([]int, len(sc.Series))
	appendTill := func(t int64) error {
		app := db.Appender(context.Background())
		for i, s := range sc.Series {
			ls := labels.FromMap(s.Labels)
			// samples and stale markers merged in time order
			for {
				var ts int64 = math.MaxInt64
				var v float64
				isSample := false
				if next[i] < len(s.Samples) {
					t0 := int64(s.Samples[next[i]][0].(float64))
					v0, err := strconv.ParseFloat(s.Samples[next[i]][1].(string), 64)
					if err != nil {
						die(err)
					}
					ts, v, isSample = t0, v0, true
				}
				if nextStale[i] < len(s.Stale) && s.Stale[nextStale[i]] < ts {
					ts, v, isSample = s.Stale[nextStale[i]], math.Float64frombits(value.StaleNaN), false
				}
				if ts == math.MaxInt64 || ts > t {
					break
				}
				if isSample {
					next[i]++
				} else {
					nextStale[i]++
				}
				if _, err := app.Append(0, ls, ts, v); err != nil {
					return err
				}
			}
		}
		return app.Commit()
	}

	var out Out
	for _, st := range sc.Steps {
		sent = nil
		ts := time.Unix(0, st.T*1e6).UTC()
		switch st.Action {
		case "eval":
			if err := appendTill(st.T); err != nil {
				die(err)
			}
			for _, g := range groups {
				g.Eval(context.Background(), ts)
			}
		case "restore":
			for _, g := range groups {
				g.RestoreForState(ts)
			}
		case "reload":
			ng, err := load(st.Files)
			if err != nil {
				die(err)
			}
			old := map[string]*rules.Group{}
			for _, g := range groups {
				old[rules.GroupKey(filepath.Base(g.File()), g.Name())] = g
			}
			for _, g := range ng {
				if o, ok := old[rules.GroupKey(filepath.Base(g.File()), g.Name())]; ok {
					g.CopyState(o)
				}
			}
			groups = ng
		}
		var so StepOut
		for _, g := range groups {
			for _, r := range g.Rules() {
				ro := RuleOut{Group: g.Name(), Name: r.Name(), Health: string(r.Health())}
				if r.LastError() != nil {
					ro.LastError = r.LastError().Error()
				}
				if ar, ok := r.(*rules.AlertingRule); ok {
					ro.State = ar.State().String()
					ar.ForEachActiveAlert(func(a *rules.Alert) { ro.Alerts = append(ro.Alerts, alertOut(a)) })
					sortAlerts(ro.Alerts)
					rs := ar.Restored()
					ro.Restored = &rs
				}
				so.Rules = append(so.Rules, ro)
			}
		}
		sort.SliceStable(sent, func(i, j int) bool { return sent[i].Expr < sent[j].Expr })
		so.Sent = sent
		out.Steps = append(out.Steps, so)
	}

	q, err := db.Querier(context.Background(), math.MinInt64, math.MaxInt64)
	if err != nil {
		die(err)
	}
	ss := q.Select(true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	for ss.Next() {
		s := ss.At()
		so := SeriesOut{Labels: s.Labels().Map()}
		it := s.Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			so.Samples = append(so.Samples, [2]interface{}{t, fmtFloat(v)})
		}
		out.Storage = append(out.Storage, so)
	}
	if err := ss.Err(); err != nil {
		die(err)
	}
	_ = model.Time(0)
	_ = storage.ErrOutOfOrderSample
	json.NewEncoder(os.Stdout).Encode(out)
}
