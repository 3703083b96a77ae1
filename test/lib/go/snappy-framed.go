// The snappy framing Thanos' gRPC `snappy` codec uses (pkg/extgrpc/snappy: klauspost snappy
// NewBufferedWriter / NewReader), as a filter: `encode` frames stdin, `decode` unframes it.
// The oracle for shared/encoding/snappyframed.ts (test/integration/snappy-framed-go.test.ts).
package main

import (
	"io"
	"os"

	"github.com/klauspost/compress/snappy"
)

func main() {
	switch os.Args[1] {
	case "encode":
		w := snappy.NewBufferedWriter(os.Stdout)
		if _, err := io.Copy(w, os.Stdin); err != nil {
			panic(err)
		}
		if err := w.Close(); err != nil {
			panic(err)
		}
	case "decode":
		if _, err := io.Copy(os.Stdout, snappy.NewReader(os.Stdin)); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(1)
		}
	}
}
