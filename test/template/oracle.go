// The Go oracle for shared/template: Prometheus 2.42's own template package (template.NewTemplateExpander,
// as rules/alerting.go calls it) expands a corpus read as JSON from stdin and prints the results as JSON.
// Built and cached by test/lib/gobuild.ts; used by test/integration/template-go.test.ts and
// bench/template.ts.
//
//	oracle expand   < {"cases":[...]}      -> [{"result": "..."}...]   (the alert rule's rendering)
//	oracle floats   < [{"f":"<hex bits>","verb":"%v"}...] -> ["..."...] (fmt.Sprintf of float64)
//	oracle caseranges                       -> unicode.CaseRanges as JSON
//	oracle bench N  < {"cases":[...]}      -> [ns per expansion (best of 5 rounds of N/5)...]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  string            `json:"value"`
}

type queryAnswer struct {
	Samples []sample `json:"samples"`
	Error   *string  `json:"error"`
}

type tcase struct {
	Name           string                 `json:"name"`
	Text           string                 `json:"text"`
	Labels         map[string]string      `json:"labels"`
	ExternalLabels map[string]string      `json:"externalLabels"`
	ExternalURL    string                 `json:"externalURL"`
	Value          string                 `json:"value"`
	TsMs           int64                  `json:"tsMs"`
	Queries        map[string]queryAnswer `json:"queries"`
	// The *url.URL given to the expander (pathPrefix, externalURL); null: nil, as in Thanos.
	FuncURL *string `json:"funcURL"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func parseF(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fail(fmt.Errorf("value %q: %w", s, err))
	}
	return f
}

// expand does what rules/alerting.go's expand closure does for one label or annotation.
func expand(c tcase) string {
	defs := []string{
		"{{$labels := .Labels}}",
		"{{$externalLabels := .ExternalLabels}}",
		"{{$externalURL := .ExternalURL}}",
		"{{$value := .Value}}",
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if c.ExternalLabels == nil {
		c.ExternalLabels = map[string]string{}
	}
	data := template.AlertTemplateData(c.Labels, c.ExternalLabels, c.ExternalURL, parseF(c.Value))
	var u *url.URL
	if c.FuncURL != nil {
		var err error
		if u, err = url.Parse(*c.FuncURL); err != nil {
			fail(err)
		}
	}
	qf := func(ctx context.Context, q string, ts time.Time) (promql.Vector, error) {
		a, ok := c.Queries[q]
		if !ok {
			return nil, fmt.Errorf("no answer for query %q", q)
		}
		if a.Error != nil {
			return nil, fmt.Errorf("%s", *a.Error)
		}
		v := promql.Vector{}
		for _, s := range a.Samples {
			v = append(v, promql.Sample{Point: promql.Point{T: ts.UnixMilli(), V: parseF(s.Value)}, Metric: labels.FromMap(s.Labels)})
		}
		return v, nil
	}
	tmpl := template.NewTemplateExpander(context.Background(), strings.Join(append(defs, c.Text), ""), c.Name, data,
		model.Time(c.TsMs), template.QueryFunc(qf), u, nil)
	result, err := tmpl.Expand()
	if err != nil {
		result = fmt.Sprintf("<error expanding template: %s>", err)
	}
	return result
}

func readCases() []tcase {
	var in struct {
		Cases []tcase `json:"cases"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail(err)
	}
	return in.Cases
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: oracle expand|floats|caseranges|bench N"))
	}
	out := json.NewEncoder(os.Stdout)
	switch os.Args[1] {
	case "expand":
		cases := readCases()
		res := make([]map[string]string, len(cases))
		for i, c := range cases {
			res[i] = map[string]string{"result": expand(c)}
		}
		out.Encode(res)
	case "floats":
		var in []struct {
			F    string `json:"f"`
			Verb string `json:"verb"`
		}
		if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
			fail(err)
		}
		res := make([]string, len(in))
		for i, x := range in {
			bits, err := strconv.ParseUint(x.F, 16, 64)
			if err != nil {
				fail(err)
			}
			res[i] = fmt.Sprintf(x.Verb, math.Float64frombits(bits))
		}
		out.Encode(res)
	case "caseranges":
		rs := [][5]int64{}
		for _, r := range unicode.CaseRanges {
			rs = append(rs, [5]int64{int64(r.Lo), int64(r.Hi), int64(r.Delta[0]), int64(r.Delta[1]), int64(r.Delta[2])})
		}
		out.Encode(rs)
	case "bench":
		n, _ := strconv.Atoi(os.Args[2])
		cases := readCases()
		res := make([]float64, len(cases))
		// Best of 5 rounds: the figure least disturbed by other load on the machine.
		for i, c := range cases {
			expand(c) // warm
			best := math.Inf(1)
			for r := 0; r < 5; r++ {
				start := time.Now()
				for j := 0; j < n/5; j++ {
					expand(c)
				}
				best = math.Min(best, float64(time.Since(start).Nanoseconds())/float64(n/5))
			}
			res[i] = best
		}
		out.Encode(res)
	default:
		fail(fmt.Errorf("unknown mode %q", os.Args[1]))
	}
}
