package lint

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// chain is what lint learned about a bundle's certificates: duplicates
// removed, the leaf and its issuer found, and the chain findings.
type chain struct {
	// certs are the distinct certificates in issuing order when the
	// bundle could be put in order, otherwise in file order.
	certs []*x509.Certificate
	// position is each certificate's 1-based place in the file, for
	// messages that point at it.
	position map[*x509.Certificate]int
	leaf     *x509.Certificate
	// issuer is the certificate in the bundle that issued the leaf.
	issuer     *x509.Certificate
	selfSigned map[*x509.Certificate]bool
	findings   []Finding
}

// issuedBy reports whether child names parent as its issuer and, if so,
// whether parent's key signed it. A signature in an algorithm Go refuses
// (SHA-1, MD5) is taken as valid here: weak_signature reports it, and the
// chain order is still worth checking.
func issuedBy(child, parent *x509.Certificate) (named bool, err error) {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false, nil
	}
	return true, tolerateWeak(child.CheckSignatureFrom(parent))
}

func tolerateWeak(err error) error {
	var weak x509.InsecureAlgorithmError
	if errors.As(err, &weak) {
		return nil
	}
	return err
}

func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		tolerateWeak(c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)) == nil
}

func analyzeChain(certs []*x509.Certificate) *chain {
	ch := &chain{position: map[*x509.Certificate]int{}, selfSigned: map[*x509.Certificate]bool{}}
	for i, c := range certs {
		if first := ch.find(c); first != nil {
			ch.add(ChainDuplicate, "certificate %d repeats certificate %d (%s)", i+1, ch.position[first], name(c))
			continue
		}
		ch.certs = append(ch.certs, c)
		ch.position[c] = i + 1
		ch.selfSigned[c] = isSelfSigned(c)
	}
	n := len(ch.certs)
	// issues[p][c]: certificate p issued certificate c.
	issues := make([][]bool, n)
	for p := range n {
		issues[p] = make([]bool, n)
		for c := range n {
			if p != c {
				named, err := issuedBy(ch.certs[c], ch.certs[p])
				issues[p][c] = named && err == nil
			}
		}
	}
	if order := issuingOrder(issues); order != nil {
		if !isIdentity(order) {
			var want []string
			for _, i := range order {
				want = append(want, ch.label(ch.certs[i]))
			}
			ch.add(ChainWrongOrder, "put them in this order: %s", strings.Join(want, ", "))
		}
		ordered := make([]*x509.Certificate, n)
		for k, i := range order {
			ordered[k] = ch.certs[i]
		}
		ch.certs = ordered
	} else {
		ch.pairwise(issues)
	}
	ch.leaf = ch.certs[0]
	for _, c := range ch.certs[1:] {
		if named, err := issuedBy(ch.leaf, c); named && err == nil {
			ch.issuer = c
			break
		}
	}
	if ch.selfSigned[ch.leaf] {
		ch.add(LeafSelfSigned, "%s is self-signed", ch.label(ch.leaf))
	} else if n == 1 {
		ch.add(ChainIncomplete, "add the issuer of %s, %s", ch.label(ch.leaf), clip(ch.leaf.Issuer.String()))
	}
	for _, c := range ch.certs[1:] {
		if ch.selfSigned[c] {
			ch.add(ChainIncludesRoot, "%s is self-signed; leave it out", ch.label(c))
		}
	}
	return ch
}

// issuingOrder returns the permutation of the certificates that puts each
// one before its issuer, or nil when there is none: when one certificate
// issues no other (the leaf), and following issuers from it reaches every
// certificate.
func issuingOrder(issues [][]bool) []int {
	n := len(issues)
	start := -1
	for c := range n {
		issuesAny := false
		for other := range n {
			issuesAny = issuesAny || issues[c][other]
		}
		if !issuesAny {
			if start >= 0 {
				return nil
			}
			start = c
		}
	}
	if start < 0 {
		return nil
	}
	order, used := []int{start}, map[int]bool{start: true}
	for cur := start; ; {
		next := -1
		for p := range n {
			if !used[p] && issues[p][cur] {
				next = p
				break
			}
		}
		if next < 0 {
			break
		}
		order, used[next], cur = append(order, next), true, next
	}
	if len(order) != n {
		return nil
	}
	return order
}

func isIdentity(order []int) bool {
	for k, i := range order {
		if k != i {
			return false
		}
	}
	return true
}

// pairwise explains, certificate by certificate, a bundle that cannot be
// put in order.
func (ch *chain) pairwise(issues [][]bool) {
	for i := 0; i+1 < len(ch.certs); i++ {
		child, next := ch.certs[i], ch.certs[i+1]
		named, err := issuedBy(child, next)
		if named && err == nil {
			continue
		}
		if named {
			ch.add(ChainBadSignature, "%s names %s as its issuer, but: %v", ch.label(child), ch.label(next), err)
			continue
		}
		other := -1
		for p := range ch.certs {
			if p != i+1 && issues[p][i] {
				other = p
				break
			}
		}
		switch {
		case other >= 0:
			ch.add(ChainWrongOrder, "%s is issued by %s, not by the next one, %s", ch.label(child), ch.label(ch.certs[other]), ch.label(next))
		case ch.selfSigned[child]:
			ch.add(ChainGap, "%s follows the self-signed %s; nothing after a trust anchor belongs to the chain", ch.label(next), ch.label(child))
		default:
			ch.add(ChainGap, "%s is issued by %s, which is not certificate %d (%s) nor anywhere in the bundle",
				ch.label(child), clip(child.Issuer.String()), ch.position[next], name(next))
		}
	}
}

func (ch *chain) find(c *x509.Certificate) *x509.Certificate {
	for _, seen := range ch.certs {
		if bytes.Equal(seen.Raw, c.Raw) {
			return seen
		}
	}
	return nil
}

func (ch *chain) add(id ID, format string, args ...any) {
	ch.findings = append(ch.findings, Finding{ID: id, Message: fmt.Sprintf(format, args...)})
}

// label names a certificate in a message: "the leaf (CN=a)" once the
// leaf is known, otherwise by its place in the file.
func (ch *chain) label(c *x509.Certificate) string {
	if c == ch.leaf {
		return "the leaf (" + name(c) + ")"
	}
	return fmt.Sprintf("certificate %d (%s)", ch.position[c], name(c))
}

// maxNameLen caps a subject in messages; a certificate can carry a name of
// any length.
const maxNameLen = 200

func name(c *x509.Certificate) string { return clip(c.Subject.String()) }

func clip(s string) string {
	if r := []rune(s); len(r) > maxNameLen {
		return string(r[:maxNameLen]) + "…"
	}
	return s
}
