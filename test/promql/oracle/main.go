// The oracle for our PromQL test scripts: Prometheus 2.42's own test harness (promql.NewTest, the
// same code that runs promql/testdata/*.test upstream) and its series-notation parser.
// Built and driven by test/lib/promql-oracle.ts. Reads a JSON array on stdin, writes a JSON array
// to stdout (anything the harness prints goes to stderr).
//
//   oracle run     [{name, text}]                 -> [{name, error}]   run whole scripts
//   oracle eval    [{load, expr, timeMs}]         -> [{type, error, scalar, samples}]
//                                                    load a script's data, one instant query
//   oracle series  ["metric{a=\"b\"} 1+1x3", ...] -> [{labels, values, error}]   ParseSeriesDesc
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// t satisfies testutil.T; FailNow panics so that a failing harness call is reported, not fatal.
type t struct{ msgs []string }

func (x *t) Errorf(format string, args ...interface{}) { x.msgs = append(x.msgs, fmt.Sprintf(format, args...)) }
func (x *t) FailNow()                                  { panic(fmt.Sprintf("FailNow: %v", x.msgs)) }

type runIn struct {
	Name string `json:"name"`
	Text string `json:"text"`
}
type runOut struct {
	Name  string `json:"name"`
	Error string `json:"error,omitempty"`
}

func runScript(in runIn) (out runOut) {
	out.Name = in.Name
	defer func() {
		if r := recover(); r != nil {
			out.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	test, err := promql.NewTest(&t{}, in.Text)
	if err != nil {
		out.Error = "parse: " + err.Error()
		return
	}
	defer test.Close()
	if err := test.Run(); err != nil {
		out.Error = err.Error()
	}
	return
}

type evalIn struct {
	Load   string `json:"load"`
	Expr   string `json:"expr"`
	TimeMs int64  `json:"timeMs"`
}
type sampleOut struct {
	Labels [][2]string `json:"labels"`
	Value  string      `json:"value"`
}
type evalOut struct {
	Type    string      `json:"type,omitempty"`
	Error   string      `json:"error,omitempty"`
	Scalar  string      `json:"scalar,omitempty"`
	String  string      `json:"string,omitempty"`
	Samples []sampleOut `json:"samples,omitempty"`
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func evalOne(in evalIn) (out evalOut) {
	defer func() {
		if r := recover(); r != nil {
			out.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	test, err := promql.NewTest(&t{}, in.Load)
	if err != nil {
		out.Error = "parse: " + err.Error()
		return
	}
	defer test.Close()
	if err := test.Run(); err != nil {
		out.Error = "load: " + err.Error()
		return
	}
	q, err := test.QueryEngine().NewInstantQuery(test.Queryable(), nil, in.Expr, time.UnixMilli(in.TimeMs))
	if err != nil {
		out.Error = err.Error()
		return
	}
	defer q.Close()
	res := q.Exec(test.Context())
	if res.Err != nil {
		out.Error = res.Err.Error()
		return
	}
	switch v := res.Value.(type) {
	case promql.Scalar:
		out.Type, out.Scalar = "scalar", fmtFloat(v.V)
	case promql.String:
		out.Type, out.String = "string", v.V
	case promql.Vector:
		out.Type = "vector"
		out.Samples = []sampleOut{}
		for _, s := range v {
			ls := [][2]string{}
			for _, l := range s.Metric {
				ls = append(ls, [2]string{l.Name, l.Value})
			}
			out.Samples = append(out.Samples, sampleOut{Labels: ls, Value: fmtFloat(s.V)})
		}
	case promql.Matrix:
		out.Type = "matrix"
	}
	return
}

type seriesOut struct {
	Labels [][2]string `json:"labels"`
	// Values: float64 bits as 16 hex digits, or "_" for an omitted step.
	Values []string `json:"values"`
	Error  string   `json:"error,omitempty"`
}

func series(line string) (out seriesOut) {
	defer func() {
		if r := recover(); r != nil {
			out.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	ls, vals, err := parser.ParseSeriesDesc(line)
	if err != nil {
		out.Error = err.Error()
		return
	}
	out.Labels = [][2]string{}
	for _, l := range ls {
		out.Labels = append(out.Labels, [2]string{l.Name, l.Value})
	}
	out.Values = []string{}
	for _, v := range vals {
		if v.Omitted {
			out.Values = append(out.Values, "_")
		} else {
			out.Values = append(out.Values, fmt.Sprintf("%016x", math.Float64bits(v.Value)))
		}
	}
	return
}

func main() {
	stdout := os.Stdout
	os.Stdout = os.Stderr // the harness prints diagnostics with fmt.Println
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: oracle run|eval|series < input.json")
		os.Exit(2)
	}
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	var result interface{}
	switch os.Args[1] {
	case "run":
		var in []runIn
		if err := json.Unmarshal(input, &in); err != nil {
			panic(err)
		}
		outs := []runOut{}
		for _, x := range in {
			outs = append(outs, runScript(x))
		}
		result = outs
	case "eval":
		var in []evalIn
		if err := json.Unmarshal(input, &in); err != nil {
			panic(err)
		}
		outs := []evalOut{}
		for _, x := range in {
			outs = append(outs, evalOne(x))
		}
		result = outs
	case "series":
		var in []string
		if err := json.Unmarshal(input, &in); err != nil {
			panic(err)
		}
		outs := []seriesOut{}
		for _, x := range in {
			outs = append(outs, series(x))
		}
		result = outs
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
	if err := json.NewEncoder(stdout).Encode(result); err != nil {
		panic(err)
	}
}
