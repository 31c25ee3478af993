package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/ocspwatch/ocspwatch/probe"
)

// Network is the [network] section: where the agent may connect.
type Network struct {
	// Allow lists CIDRs the agent may reach even where the defaults deny
	// them, for example an internal OCSP responder named in certificates.
	Allow []string `toml:"allow"`
	// Deny lists CIDRs the agent never reaches, on top of the defaults.
	Deny []string `toml:"deny"`
}

type networkError struct{ key, msg string }

func (e *networkError) Error() string { return e.key + ": " + e.msg }

func (n Network) policy() (*probe.DialPolicy, error) {
	allow, err := parsePrefixes("allow", n.Allow)
	if err != nil {
		return nil, err
	}
	deny, err := parsePrefixes("deny", n.Deny)
	if err != nil {
		return nil, err
	}
	return probe.NewDialPolicy(allow, deny), nil
}

func parsePrefixes(key string, list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		var p netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			p, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil {
			return nil, &networkError{key: key, msg: fmt.Sprintf("%q is not a CIDR such as 10.0.0.0/8 or an address", s)}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// DialPolicy is the network policy the configuration sets.
func (c *Config) DialPolicy() *probe.DialPolicy { return c.dialPolicy }
