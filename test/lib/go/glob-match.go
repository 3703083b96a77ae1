// Go's path/filepath.Match as a filter: a JSON array of [pattern, name] pairs on stdin, a JSON array of
// "true", "false" or "bad" (ErrBadPattern) on stdout. The oracle for agent/rule/glob.ts's classes
// (test/unit/rule/glob.test.ts).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	var cases [][2]string
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := []string{}
	for _, c := range cases {
		m, err := filepath.Match(c[0], c[1])
		if err != nil {
			out = append(out, "bad")
		} else {
			out = append(out, fmt.Sprint(m))
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
