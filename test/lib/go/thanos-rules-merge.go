// What Thanos' querier answers on /api/v1/rules and /api/v1/alerts for given ruler answers: the
// oracle for shared/query/rules.ts and shared/api/rules-api.ts. Each case's groups (protobuf, as the
// rulers sent them, in arrival order) go through Thanos' own rules.NewGRPCClientWithDedup (filters,
// group merge, rule dedup: what the querier's API handlers call), and the result is written as
// pkg/api/api.go writes answers (jsoniter in standard-library mode): the RuleGroups of the rules
// handler, and the alerts handler's struct.
//
//	thanos-rules-merge < cases.json
//
// Input: [{"replicaLabels": [...], "type": 0|1|2, "match": ["{...}"], "ruleName": [...], "ruleGroup": [...],
// "file": [...], "groups": ["<base64 RuleGroup protobuf>", ...]}]
// Output: [{"rules": "<RuleGroups JSON>", "alerts": "<alerts JSON>", "err": ""}]
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"

	jsoniter "github.com/json-iterator/go"
	"github.com/thanos-io/thanos/pkg/rules"
	"github.com/thanos-io/thanos/pkg/rules/rulespb"
)

type input struct {
	ReplicaLabels []string `json:"replicaLabels"`
	Type          int32    `json:"type"`
	Match         []string `json:"match"`
	RuleName      []string `json:"ruleName"`
	RuleGroup     []string `json:"ruleGroup"`
	File          []string `json:"file"`
	Groups        []string `json:"groups"`
}

// The answers' bytes, as strings (a RawMessage would be re-escaped by encoding/json).
type output struct {
	Rules  string `json:"rules"`
	Alerts string `json:"alerts"`
	Err    string `json:"err"`
}

// A rules server that sends the given groups in order (the Proxy's channel, as they arrived).
type fixedServer struct{ groups []*rulespb.RuleGroup }

func (s fixedServer) Rules(_ *rulespb.RulesRequest, srv rulespb.Rules_RulesServer) error {
	for _, g := range s.groups {
		if err := srv.Send(rulespb.NewRuleGroupRulesResponse(g)); err != nil {
			return err
		}
	}
	return nil
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	var cases []input
	if err := json.Unmarshal(raw, &cases); err != nil {
		panic(err)
	}
	js := jsoniter.ConfigCompatibleWithStandardLibrary
	out := make([]output, 0, len(cases))
	for i, c := range cases {
		groups := make([]*rulespb.RuleGroup, 0, len(c.Groups))
		for _, b := range c.Groups {
			bs, err := base64.StdEncoding.DecodeString(b)
			if err != nil {
				panic(err)
			}
			g := &rulespb.RuleGroup{}
			if err := g.Unmarshal(bs); err != nil {
				panic(fmt.Sprintf("case %d: %v", i, err))
			}
			groups = append(groups, g)
		}
		req := &rulespb.RulesRequest{
			Type:          rulespb.RulesRequest_Type(c.Type),
			MatcherString: c.Match,
			RuleName:      c.RuleName,
			RuleGroup:     c.RuleGroup,
			File:          c.File,
		}
		res, _, err := rules.NewGRPCClientWithDedup(fixedServer{groups}, c.ReplicaLabels).Rules(context.Background(), req)
		if err != nil {
			out = append(out, output{Err: err.Error()})
			continue
		}
		rb, err := js.Marshal(res)
		if err != nil {
			panic(err)
		}
		// NewAlertsHandler's answer over the same groups (it asks with type ALERT; the type filter is
		// the rulers' job, so here it is the same groups).
		var alerts struct {
			Alerts []*rulespb.AlertInstance `json:"alerts"`
		}
		for _, g := range res.Groups {
			for _, r := range g.Rules {
				if a := r.GetAlert(); a != nil {
					alerts.Alerts = append(alerts.Alerts, a.Alerts...)
				}
			}
		}
		ab, err := js.Marshal(alerts)
		if err != nil {
			panic(err)
		}
		out = append(out, output{Rules: string(rb), Alerts: string(ab)})
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(b)
}
