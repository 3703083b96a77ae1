// Golden XOR chunks from Prometheus' own Go code (tsdb/chunkenc), for test/unit/chunkenc/golden.test.ts.
// Reads cases (timestamps, value bits as hex, optional indices where the writer is re-created with
// XORChunk.Appender()) as JSON on stdin, writes them back with the chunk Go produced, hex encoded.
// How golden.json was made is in README.md next to this file. Not part of the TypeScript build.
package main

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"strconv"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

type Case struct {
	Ts     []int64  `json:"ts"`
	Bits   []string `json:"bits"`
	Reopen []int    `json:"reopen,omitempty"`
	Chunk  string   `json:"chunk,omitempty"`
}

func main() {
	var cases []Case
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	for i := range cases {
		c := chunkenc.NewXORChunk()
		app, err := c.Appender()
		if err != nil {
			panic(err)
		}
		for j, t := range cases[i].Ts {
			for _, r := range cases[i].Reopen {
				if r == j {
					app, err = c.Appender()
					if err != nil {
						panic(err)
					}
				}
			}
			b, err := strconv.ParseUint(cases[i].Bits[j], 16, 64)
			if err != nil {
				panic(err)
			}
			app.Append(t, math.Float64frombits(b))
		}
		cases[i].Chunk = hex.EncodeToString(c.Bytes())
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(cases); err != nil {
		panic(err)
	}
}
