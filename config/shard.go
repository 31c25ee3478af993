package config

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// maxShards bounds shard = "i/n".
const maxShards = 1024

// Shard is one part of a fleet split between agents by target name.
type Shard struct{ Index, Count int }

// ParseShard reads "i/n" (0 <= i < n): this agent keeps the targets whose
// name hashes to part i of n.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || count < 1 || count > maxShards || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("%q is not i/n with 0 <= i < n <= %d, for example 0/3", s, maxShards)
	}
	return Shard{Index: index, Count: count}, nil
}

// Owns reports whether the shard keeps the target named name. The name is
// hashed with FNV-1a and placed by jump consistent hashing (Lamping and
// Veach), so every agent given the same file agrees without talking to the
// others, and growing from n to n+1 agents moves only 1/(n+1) of the
// targets.
func (s Shard) Owns(name string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return jumpHash(h.Sum64(), s.Count) == s.Index
}

func jumpHash(key uint64, buckets int) int {
	var b, j int64 = -1, 0
	for j < int64(buckets) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// KeepShard drops the targets another shard owns.
func (c *Config) KeepShard(s Shard) {
	kept := c.Targets[:0]
	for _, t := range c.Targets {
		if s.Owns(t.Name) {
			kept = append(kept, t)
		}
	}
	c.Targets = kept
	c.shard = s
}

// ShardOf is the shard this configuration was cut to; 0/1 when whole.
func (c *Config) ShardOf() Shard {
	if c.shard.Count == 0 {
		return Shard{Index: 0, Count: 1}
	}
	return c.shard
}
