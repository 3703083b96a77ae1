// Go's bcrypt (golang.org/x/crypto/bcrypt, what exporter-toolkit checks basic_auth_users with) as a
// filter: stdin is JSON [{"password": "...", "cost": N}], stdout the JSON list of hashes.
// The oracle for shared/encoding/bcrypt.ts (test/integration/bcrypt-go.test.ts).
package main

import (
	"encoding/json"
	"os"

	"golang.org/x/crypto/bcrypt"
)

func main() {
	var in []struct {
		Password string `json:"password"`
		Cost     int    `json:"cost"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		panic(err)
	}
	out := []string{}
	for _, c := range in {
		// GenerateFromPassword refuses more than 72 bytes; the hash of such a password is that of its
		// first 72 bytes (what CompareHashAndPassword computes).
		p := []byte(c.Password)
		if len(p) > 72 {
			p = p[:72]
		}
		h, err := bcrypt.GenerateFromPassword(p, c.Cost)
		if err != nil {
			panic(err)
		}
		if err := bcrypt.CompareHashAndPassword(h, []byte(c.Password)); err != nil {
			panic(err)
		}
		out = append(out, string(h))
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
