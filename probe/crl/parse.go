package crl

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// CRL is a parsed certificate revocation list, reduced to what a check
// needs: its header, what was found while verifying it against the issuer,
// and a compact set of revoked serials. It is never modified after Parse
// returns, so one copy may serve any number of targets and goroutines.
type CRL struct {
	info      Info
	rawIssuer []byte
	scope     scope
	// findings are facts of the bytes and the issuer, found once at parse
	// time; the time window is judged later, against the caller's clock.
	findings []Problem
	revoked  revokedSet
}

// Info is the header of a CRL. Info returns a copy, so callers may keep it.
type Info struct {
	Issuer     string
	ThisUpdate time.Time
	// NextUpdate is the zero time when the CRL has none.
	NextUpdate time.Time
	// Number is the CRL number extension, nil when absent.
	Number             *big.Int
	Entries            int
	SignatureAlgorithm x509.SignatureAlgorithm
	// DERBytes is the size of the CRL as served (after PEM decoding).
	DERBytes int64
	// ETag and LastModified are the validators of the HTTP response that
	// carried this copy, sent back on the next conditional GET.
	ETag, LastModified string
}

// Info returns the CRL's header.
func (c *CRL) Info() Info {
	i := c.info
	if i.Number != nil {
		i.Number = new(big.Int).Set(i.Number)
	}
	return i
}

// RetainedBytes estimates the heap the CRL keeps alive: the serial arena,
// the entry index and the small header.
func (c *CRL) RetainedBytes() int64 {
	const header = 512
	return c.revoked.retainedBytes() + int64(len(c.rawIssuer)+len(c.info.Issuer)) + header
}

// withValidators returns a copy that remembers the HTTP validators of the
// response that carried it. The revoked set is shared: it is never written.
func (c *CRL) withValidators(etag, lastModified string) *CRL {
	d := *c
	d.info.ETag, d.info.LastModified = etag, lastModified
	return &d
}

// Limits on things a hostile CRL could make expensive.
const (
	// maxSerialBytes is far above RFC 5280's 20 octets; a longer serial
	// is malformed rather than merely odd.
	maxSerialBytes = 64
	// maxIDPNames bounds the names kept from an issuingDistributionPoint.
	maxIDPNames = 16
	maxURLBytes = 2048
	// maxText bounds text kept from the CRL, such as the issuer's name.
	maxText = 256
	// maxEntryFindings bounds the distinct problems kept from entries.
	maxEntryFindings = 8
)

// Extension OIDs, as the DER content of the OBJECT IDENTIFIER, so entries
// are matched without allocating.
var (
	oidReasonCode        = []byte{0x55, 0x1d, 0x15} // 2.5.29.21
	oidHoldInstruction   = []byte{0x55, 0x1d, 0x17} // 2.5.29.23
	oidInvalidityDate    = []byte{0x55, 0x1d, 0x18} // 2.5.29.24
	oidCertificateIssuer = []byte{0x55, 0x1d, 0x1d} // 2.5.29.29

	oidCRLNumber        = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRL         = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidFreshestCRL      = asn1.ObjectIdentifier{2, 5, 29, 46}
	oidExpiredCertsOn   = asn1.ObjectIdentifier{2, 5, 29, 60}
	oidAuthorityInfo    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
)

var pemCRLPrefix = []byte("-----BEGIN X509 CRL-----")

// Parse reads a DER (or PEM "X509 CRL") CRL and verifies it against
// issuer, the certificate that issued the certificates it covers. An error
// means the bytes are not a CRL (ReasonMalformed); everything else that is
// wrong with a well-formed CRL — a bad signature, another issuer's name, a
// delta CRL, an unknown critical extension — is kept in the CRL and shows
// in its Verdict. A nil issuer leaves the CRL unverified, so never trusted.
//
// Parse keeps no reference to der.
func Parse(der []byte, issuer *x509.Certificate) (*CRL, error) {
	if bytes.HasPrefix(bytes.TrimLeft(der, " \t\r\n"), pemCRLPrefix) {
		block, _ := pem.Decode(der)
		if block == nil || block.Type != "X509 CRL" {
			return nil, errors.New("unreadable PEM X509 CRL block")
		}
		der = block.Bytes
	}
	raw, err := split(der)
	if err != nil {
		return nil, err
	}
	// The header, without the entries, goes through the standard parser:
	// it checks the version, the names, the times and the extensions, and
	// names the signature algorithm, and it costs nothing per entry.
	header, err := x509.ParseRevocationList(raw.headerCRL())
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	c := &CRL{
		info: Info{
			Issuer:             boundedText(header.Issuer.String()),
			ThisUpdate:         header.ThisUpdate,
			NextUpdate:         header.NextUpdate,
			SignatureAlgorithm: header.SignatureAlgorithm,
			DERBytes:           int64(len(der)),
		},
		rawIssuer: bytes.Clone(header.RawIssuer),
	}
	if header.Number != nil {
		c.info.Number = new(big.Int).Set(header.Number)
	}
	set, entryFindings, err := readEntries(raw.entries)
	if err != nil {
		return nil, err
	}
	c.revoked = set
	c.info.Entries = set.len()
	c.findings = append(c.findings, verifySignature(header, raw.tbs, issuer)...)
	c.findings = append(c.findings, c.readExtensions(header)...)
	c.findings = append(c.findings, entryFindings...)
	return c, nil
}

// rawCRL holds the parts of a CRL's DER that Parse needs, all slices of
// the input.
type rawCRL struct {
	tbs, sigAlg, sig []byte
	// headerBefore and headerAfter are the TBS elements before and after
	// revokedCertificates.
	headerBefore, headerAfter []byte
	entries                   cryptobyte.String
}

func split(der []byte) (rawCRL, error) {
	var r rawCRL
	input := cryptobyte.String(der)
	var list, tbsElem, sigAlg, sig cryptobyte.String
	if !input.ReadASN1(&list, cbasn1.SEQUENCE) || !input.Empty() {
		return r, errors.New("not a single DER SEQUENCE")
	}
	if !list.ReadASN1Element(&tbsElem, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&sigAlg, cbasn1.SEQUENCE) ||
		!list.ReadASN1Element(&sig, cbasn1.BIT_STRING) || !list.Empty() {
		return r, errors.New("CertificateList is not tbsCertList, signatureAlgorithm, signatureValue")
	}
	r.tbs, r.sigAlg, r.sig = tbsElem, sigAlg, sig
	var tbs cryptobyte.String
	if elem := tbsElem; !elem.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return r, errors.New("malformed tbsCertList")
	}
	start := len(tbs)
	// version (optional), signature, issuer, thisUpdate, nextUpdate
	// (optional); then revokedCertificates (optional) is the only SEQUENCE.
	if tbs.PeekASN1Tag(cbasn1.INTEGER) && !tbs.SkipASN1(cbasn1.INTEGER) {
		return r, errors.New("malformed version")
	}
	if !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !skipTime(&tbs) {
		return r, errors.New("malformed signature, issuer or thisUpdate")
	}
	if (tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime)) && !skipTime(&tbs) {
		return r, errors.New("malformed nextUpdate")
	}
	whole := []byte(tbsElem)
	headerEnd := len(whole) - len(tbs)
	r.headerBefore = whole[len(whole)-start : headerEnd]
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		if !tbs.ReadASN1(&r.entries, cbasn1.SEQUENCE) {
			return r, errors.New("malformed revokedCertificates")
		}
	}
	r.headerAfter = tbs
	return r, nil
}

func skipTime(s *cryptobyte.String) bool {
	return s.SkipASN1(cbasn1.UTCTime) || s.SkipASN1(cbasn1.GeneralizedTime)
}

// headerCRL re-encodes the CRL without its entries. The signature is
// copied but no longer matches: it is checked over the real TBS instead.
func (r rawCRL) headerCRL() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(r.headerBefore)
			b.AddBytes(r.headerAfter)
		})
		b.AddBytes(r.sigAlg)
		b.AddBytes(r.sig)
	})
	// The builder fails only on lengths beyond what the input had.
	out, _ := b.Bytes()
	return out
}

// verifySignature checks that issuer signed the TBS bytes and that the CRL
// names it. x509.RevocationList.CheckSignatureFrom reads only the fields
// set here, so the entries never need to exist as objects.
func verifySignature(header *x509.RevocationList, tbs []byte, issuer *x509.Certificate) []Problem {
	if issuer == nil {
		return []Problem{{ReasonBadSignature, "no issuer certificate to verify the CRL against"}}
	}
	var out []Problem
	if !bytes.Equal(header.RawIssuer, issuer.RawSubject) {
		out = append(out, Problem{ReasonBadSignature, fmt.Sprintf("the CRL is issued by %q, the certificate by %q", boundedText(header.Issuer.String()), issuer.Subject)})
	}
	if header.SignatureAlgorithm == x509.UnknownSignatureAlgorithm {
		return append(out, Problem{ReasonUnsupported, "unknown signature algorithm"})
	}
	signed := &x509.RevocationList{
		SignatureAlgorithm:   header.SignatureAlgorithm,
		RawTBSRevocationList: tbs,
		Signature:            header.Signature,
	}
	err := signed.CheckSignatureFrom(issuer)
	var insecure x509.InsecureAlgorithmError
	switch {
	case err == nil:
	case errors.As(err, &insecure), errors.Is(err, x509.ErrUnsupportedAlgorithm):
		out = append(out, Problem{ReasonUnsupported, "signature: " + err.Error()})
	default:
		out = append(out, Problem{ReasonBadSignature, fmt.Sprintf("signature by %q: %v", issuer.Subject, err)})
	}
	return out
}

// readExtensions records the CRL-level extensions it understands and
// flags the rest when critical, as RFC 5280 §5.2 requires.
func (c *CRL) readExtensions(header *x509.RevocationList) []Problem {
	var out []Problem
	for _, ext := range header.Extensions {
		switch {
		case ext.Id.Equal(oidDeltaCRL):
			out = append(out, Problem{ReasonUnsupported, "a delta CRL (deltaCRLIndicator) is not a complete list"})
		case ext.Id.Equal(oidIssuingDistPoint):
			s, err := parseIDP(ext.Value)
			if err != nil {
				out = append(out, Problem{ReasonMalformed, "issuingDistributionPoint: " + err.Error()})
				continue
			}
			c.scope = s
			out = append(out, s.unsupported()...)
		case ext.Id.Equal(oidCRLNumber), ext.Id.Equal(oidAuthorityKeyID),
			ext.Id.Equal(oidFreshestCRL), ext.Id.Equal(oidExpiredCertsOn), ext.Id.Equal(oidAuthorityInfo):
			// Understood, or harmless to ignore: freshestCRL points at delta
			// CRLs, which are optional to use.
		case ext.Critical:
			out = append(out, Problem{ReasonUnsupported, "unknown critical CRL extension " + ext.Id.String()})
		}
	}
	return out
}

// scope is what an issuingDistributionPoint extension says the CRL covers.
type scope struct {
	names                 []string
	onlyUser, onlyCA      bool
	someReasons, indirect bool
	onlyAttributeCerts    bool
}

func (s scope) unsupported() []Problem {
	var out []Problem
	if s.someReasons {
		out = append(out, Problem{ReasonUnsupported, "the CRL covers only some revocation reasons (onlySomeReasons)"})
	}
	if s.indirect {
		out = append(out, Problem{ReasonUnsupported, "an indirect CRL is not supported"})
	}
	if s.onlyAttributeCerts {
		out = append(out, Problem{ReasonUnsupported, "the CRL covers only attribute certificates"})
	}
	return out
}

// parseIDP reads IssuingDistributionPoint (RFC 5280 §5.2.5).
func parseIDP(value []byte) (scope, error) {
	var s scope
	input := cryptobyte.String(value)
	var idp cryptobyte.String
	if !input.ReadASN1(&idp, cbasn1.SEQUENCE) || !input.Empty() {
		return s, errors.New("not a SEQUENCE")
	}
	var dpName cryptobyte.String
	var hasDP bool
	if !idp.ReadOptionalASN1(&dpName, &hasDP, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return s, errors.New("malformed distributionPoint")
	}
	if hasDP {
		var fullName cryptobyte.String
		var hasFull bool
		if !dpName.ReadOptionalASN1(&fullName, &hasFull, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return s, errors.New("malformed fullName")
		}
		for hasFull && !fullName.Empty() {
			var name cryptobyte.String
			var tag cbasn1.Tag
			if !fullName.ReadAnyASN1(&name, &tag) {
				return s, errors.New("malformed GeneralName")
			}
			if tag == cbasn1.Tag(6).ContextSpecific() && len(s.names) < maxIDPNames && len(name) <= maxURLBytes {
				s.names = append(s.names, string(name))
			}
		}
	}
	flags := []*bool{&s.onlyUser, &s.onlyCA}
	for i, flag := range flags {
		if !readImplicitBool(&idp, cbasn1.Tag(i+1).ContextSpecific(), flag) {
			return s, fmt.Errorf("malformed flag [%d]", i+1)
		}
	}
	if !idp.ReadOptionalASN1(nil, &s.someReasons, cbasn1.Tag(3).ContextSpecific()) {
		return s, errors.New("malformed onlySomeReasons")
	}
	if !readImplicitBool(&idp, cbasn1.Tag(4).ContextSpecific(), &s.indirect) ||
		!readImplicitBool(&idp, cbasn1.Tag(5).ContextSpecific(), &s.onlyAttributeCerts) || !idp.Empty() {
		return s, errors.New("malformed trailing flags")
	}
	return s, nil
}

// readImplicitBool reads an optional [n] IMPLICIT BOOLEAN DEFAULT FALSE.
func readImplicitBool(s *cryptobyte.String, tag cbasn1.Tag, out *bool) bool {
	var v cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&v, &present, tag) {
		return false
	}
	if present {
		if len(v) != 1 {
			return false
		}
		*out = v[0] != 0
	}
	return true
}

// readEntries walks revokedCertificates twice: once to size the arena and
// the index exactly, so building them never over-allocates, and once to
// fill them.
func readEntries(list cryptobyte.String) (revokedSet, []Problem, error) {
	var count, serialBytes int
	err := walkEntries(list, func(serial []byte, _ int64, _ int8) {
		count++
		serialBytes += len(serial)
	}, nil)
	if err != nil {
		return revokedSet{}, nil, err
	}
	if serialBytes > math.MaxUint32 {
		return revokedSet{}, nil, errors.New("too many revoked serials")
	}
	set := revokedSet{
		serials: make([]byte, 0, serialBytes),
		entries: make([]revokedEntry, 0, count),
	}
	var findings []Problem
	err = walkEntries(list, func(serial []byte, at int64, reason int8) {
		set.entries = append(set.entries, revokedEntry{at: at, off: uint32(len(set.serials)), n: uint8(len(serial)), reason: reason})
		set.serials = append(set.serials, serial...)
	}, func(p Problem) {
		if len(findings) < maxEntryFindings && !slices.Contains(findings, p) {
			findings = append(findings, p)
		}
	})
	if err != nil {
		return revokedSet{}, nil, err
	}
	set.sort()
	return set, findings, nil
}

// walkEntries calls each for every entry of revokedCertificates and
// finding for every entry extension that makes the CRL untrustworthy.
func walkEntries(list cryptobyte.String, each func(serial []byte, at int64, reason int8), finding func(Problem)) error {
	for n := 0; !list.Empty(); n++ {
		var entry, serial cryptobyte.String
		if !list.ReadASN1(&entry, cbasn1.SEQUENCE) {
			return fmt.Errorf("entry %d: malformed", n)
		}
		if !entry.ReadASN1(&serial, cbasn1.INTEGER) || !minimalInteger(serial) || len(serial) > maxSerialBytes {
			return fmt.Errorf("entry %d: malformed serial number", n)
		}
		var at time.Time
		if !readTime(&entry, &at) {
			return fmt.Errorf("entry %d: malformed revocationDate", n)
		}
		reason := int8(NoReasonCode)
		var exts cryptobyte.String
		var hasExts bool
		if !entry.ReadOptionalASN1(&exts, &hasExts, cbasn1.SEQUENCE) || !entry.Empty() {
			return fmt.Errorf("entry %d: malformed crlEntryExtensions", n)
		}
		for !exts.Empty() {
			var ext, oid, value cryptobyte.String
			var critical bool
			if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) ||
				!ext.ReadASN1(&oid, cbasn1.OBJECT_IDENTIFIER) ||
				(ext.PeekASN1Tag(cbasn1.BOOLEAN) && !ext.ReadASN1Boolean(&critical)) ||
				!ext.ReadASN1(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
				return fmt.Errorf("entry %d: malformed extension", n)
			}
			switch {
			case bytes.Equal(oid, oidReasonCode):
				var code int
				if !value.ReadASN1Enum(&code) || !value.Empty() || code < 0 || code > math.MaxInt8 {
					return fmt.Errorf("entry %d: malformed reasonCode", n)
				}
				reason = int8(code)
			case bytes.Equal(oid, oidInvalidityDate), bytes.Equal(oid, oidHoldInstruction):
			case bytes.Equal(oid, oidCertificateIssuer):
				if finding != nil {
					finding(Problem{ReasonUnsupported, "an indirect CRL (entry certificateIssuer) is not supported"})
				}
			case critical && finding != nil:
				finding(Problem{ReasonUnsupported, "unknown critical CRL entry extension " + oidString(oid)})
			}
		}
		each(serial, at.Unix(), reason)
	}
	return nil
}

// readTime reads a UTCTime or GeneralizedTime. The DER forms RFC 5280
// prescribes (seconds, "Z") are decoded here without allocating, which
// matters half a million times per CRL; any other form goes to
// cryptobyte's general readers.
func readTime(s *cryptobyte.String, out *time.Time) bool {
	var tag cbasn1.Tag
	var content cryptobyte.String
	peek := *s
	if peek.ReadAnyASN1(&content, &tag) {
		if t, ok := canonicalTime(tag, content); ok {
			*out = t
			*s = peek
			return true
		}
	}
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		return s.ReadASN1UTCTime(out)
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		return s.ReadASN1GeneralizedTime(out)
	}
	return false
}

// minimalInteger applies DER's rules for INTEGER content, as
// cryptobyte's ReadASN1Integer does, so Lookup's encoding is the only one.
func minimalInteger(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if len(b) == 1 {
		return true
	}
	return !(b[0] == 0 && b[1]&0x80 == 0) && !(b[0] == 0xff && b[1]&0x80 == 0x80)
}

// oidString renders the content of a DER OBJECT IDENTIFIER in dotted form.
func oidString(content []byte) string {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(content) })
	der, err := b.Bytes()
	var id asn1.ObjectIdentifier
	if s := cryptobyte.String(der); err != nil || !s.ReadASN1ObjectIdentifier(&id) {
		return fmt.Sprintf("%x", content)
	}
	return id.String()
}

// canonicalTime decodes YYMMDDHHMMSSZ (UTCTime) and YYYYMMDDHHMMSSZ
// (GeneralizedTime); ok is false for anything else.
func canonicalTime(tag cbasn1.Tag, b []byte) (time.Time, bool) {
	var year int
	switch {
	case tag == cbasn1.UTCTime && len(b) == 13:
		yy, ok := digits(b[0:2])
		if !ok {
			return time.Time{}, false
		}
		// RFC 5280 §4.1.2.5.1: 50-99 are 1950-1999.
		year = 2000 + yy
		if yy >= 50 {
			year = 1900 + yy
		}
		b = b[2:]
	case tag == cbasn1.GeneralizedTime && len(b) == 15:
		yyyy, ok := digits(b[0:4])
		if !ok {
			return time.Time{}, false
		}
		year = yyyy
		b = b[4:]
	default:
		return time.Time{}, false
	}
	if b[10] != 'Z' {
		return time.Time{}, false
	}
	var f [5]int
	for i := range f {
		v, ok := digits(b[2*i : 2*i+2])
		if !ok {
			return time.Time{}, false
		}
		f[i] = v
	}
	month, day, hour, minute, sec := f[0], f[1], f[2], f[3], f[4]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day {
		// time.Date normalised an impossible date such as 31 April.
		return time.Time{}, false
	}
	return t, true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// boundedText makes remote text safe to keep: valid UTF-8, at most maxText
// bytes.
func boundedText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxText {
		return s
	}
	cut := maxText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
