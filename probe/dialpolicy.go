package probe

import (
	"context"
	"fmt"
	"net/netip"
	"sync/atomic"
	"syscall"
)

// Origin says who named an address the agent is about to connect to.
type Origin int

const (
	// OriginConfigured addresses were named by the operator: an endpoint
	// or a responder URL in the configuration.
	OriginConfigured Origin = iota
	// OriginRemote addresses were named by remote input: a certificate's
	// AIA or CRL URL, a redirect, or an ad-hoc /probe caller.
	OriginRemote
)

func (o Origin) String() string {
	if o == OriginRemote {
		return "remote input"
	}
	return "the configuration"
}

func mustPrefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, s := range list {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// MetadataPrefixes are denied to every connection unless allowed: link
// local ranges, where clouds serve instance credentials, and the
// metadata addresses that sit outside them.
var MetadataPrefixes = mustPrefixes("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")

// InternalPrefixes are denied to addresses from remote input unless
// allowed: loopback, private, shared (CGNAT), unspecified and multicast
// ranges, so no certificate, redirect or ad-hoc caller can aim the agent
// at the network it runs in.
var InternalPrefixes = mustPrefixes(
	"127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128",
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
	"100.64.0.0/10", "224.0.0.0/4", "ff00::/8",
)

// DialPolicy decides which addresses the agent may connect to. It is
// applied in the dialer's Control hook, to the address actually dialled
// after DNS, for every connection: endpoints, responders, redirects and
// CRLs. A nil policy allows everything, for library callers and tests.
type DialPolicy struct {
	allow, deny []netip.Prefix
}

// NewDialPolicy builds a policy: allow overrides every denial, deny adds
// to MetadataPrefixes.
func NewDialPolicy(allow, deny []netip.Prefix) *DialPolicy {
	return &DialPolicy{allow: allow, deny: append(append([]netip.Prefix{}, MetadataPrefixes...), deny...)}
}

// AddressDeniedError is a connection the policy refused before it was made.
type AddressDeniedError struct {
	Addr   netip.Addr
	Origin Origin
	Prefix netip.Prefix
}

func (e *AddressDeniedError) Error() string {
	return fmt.Sprintf("address %s (named by %s) is in %s, which the network policy denies", e.Addr, e.Origin, e.Prefix)
}

// Check reports whether addr, named by origin, may be dialled.
func (p *DialPolicy) Check(addr netip.Addr, origin Origin) error {
	if p == nil {
		return nil
	}
	addr = addr.Unmap()
	for _, pre := range p.allow {
		if pre.Contains(addr) {
			return nil
		}
	}
	for _, pre := range p.deny {
		if pre.Contains(addr) {
			return &AddressDeniedError{Addr: addr, Origin: origin, Prefix: pre}
		}
	}
	if origin == OriginRemote {
		for _, pre := range InternalPrefixes {
			if pre.Contains(addr) {
				return &AddressDeniedError{Addr: addr, Origin: origin, Prefix: pre}
			}
		}
	}
	return nil
}

// dialScope travels in a query's context to the dialer: the policy, who
// named the address, and whether a redirect or a proxy changed that.
type dialScope struct {
	policy *DialPolicy
	origin Origin
	// redirected: a redirect named the address now being dialled.
	redirected atomic.Bool
	// proxied: the dial goes to the configured proxy, not to the URL.
	proxied atomic.Bool
}

type dialScopeKey struct{}

// WithDialPolicy returns a context whose connections, made by this
// package's dialer and HTTP client, follow policy for addresses named by
// origin. Each CRL download runs under a context of its own made so.
func WithDialPolicy(ctx context.Context, policy *DialPolicy, origin Origin) context.Context {
	return withDialScope(ctx, policy, origin)
}

func withDialScope(ctx context.Context, policy *DialPolicy, origin Origin) context.Context {
	if policy == nil {
		return ctx
	}
	return context.WithValue(ctx, dialScopeKey{}, &dialScope{policy: policy, origin: origin})
}

func scopeOf(ctx context.Context) *dialScope {
	s, _ := ctx.Value(dialScopeKey{}).(*dialScope)
	return s
}

// namedBy is who named the address of the URL being fetched: remote
// input once a redirect chose it, else the origin of the first URL.
func (s *dialScope) namedBy() Origin {
	if s.redirected.Load() {
		return OriginRemote
	}
	return s.origin
}

// currentOrigin is who named the address being dialled now: the
// operator, when it is the configured proxy, else namedBy.
func (s *dialScope) currentOrigin() Origin {
	if s.proxied.Load() {
		return OriginConfigured
	}
	return s.namedBy()
}

// controlDial is a net.Dialer ControlContext hook: it runs after DNS,
// before the connection is made, on the address actually dialled.
func controlDial(ctx context.Context, _, address string, _ syscall.RawConn) error {
	s := scopeOf(ctx)
	if s == nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %q: %w", address, err)
	}
	return s.policy.Check(ap.Addr(), s.currentOrigin())
}
