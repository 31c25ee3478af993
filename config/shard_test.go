package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestShardsSplitTheFleetExactlyOnce(t *testing.T) {
	var b strings.Builder
	const n = 3000
	for i := range n {
		fmt.Fprintf(&b, "[[target]]\nname = \"t%d\"\nendpoint = \"h%d.example:443\"\n", i, i)
	}
	owner := map[string]int{}
	for i := range 4 {
		cfg, err := Parse([]byte(fmt.Sprintf("shard = \"%d/4\"\n", i)+b.String()), "sharded.toml")
		if err != nil {
			t.Fatal(err)
		}
		if got := len(cfg.Targets); got < n/4*8/10 || got > n/4*12/10 {
			t.Errorf("shard %d/4 kept %d of %d targets, far from a quarter", i, got, n)
		}
		for _, tg := range cfg.Targets {
			if prev, dup := owner[tg.Name]; dup {
				t.Fatalf("%s is in shards %d and %d", tg.Name, prev, i)
			}
			owner[tg.Name] = i
		}
	}
	if len(owner) != n {
		t.Errorf("%d of %d targets have a shard", len(owner), n)
	}
	// Growing from 4 to 5 agents moves about a fifth of the targets.
	moved := 0
	for name, was := range owner {
		for i := range 5 {
			if (Shard{Index: i, Count: 5}).Owns(name) && i != was {
				moved++
			}
		}
	}
	if moved > n*3/10 {
		t.Errorf("going from 4 to 5 shards moved %d of %d targets", moved, n)
	}
}

func TestParseShard(t *testing.T) {
	for _, bad := range []string{"", "1", "3/3", "-1/2", "a/b", "0/0", "0/2000"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{2, 4}) {
		t.Errorf("ParseShard(2/4) = %v, %v", s, err)
	}
}
