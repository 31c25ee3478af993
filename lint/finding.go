package lint

import "fmt"

// Severity is how much a finding matters. A critical finding fails the
// lint; a warning fails it only when the caller is strict.
type Severity string

// Severities, from least to most severe.
const (
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// ID is the closed set of things lint can find wrong with a bundle.
type ID string

// Chain findings: the order and completeness of the certificates.
const (
	ChainWrongOrder   ID = "chain_wrong_order"
	ChainGap          ID = "chain_gap"
	ChainDuplicate    ID = "chain_duplicate"
	ChainBadSignature ID = "chain_bad_signature"
	ChainIncomplete   ID = "chain_incomplete"
	ChainIncludesRoot ID = "chain_includes_root"
	LeafSelfSigned    ID = "leaf_self_signed"
)

// Leaf findings: what a TLS client checks in the server certificate.
const (
	LeafIsCA            ID = "leaf_is_ca"
	LeafNoSAN           ID = "leaf_no_san"
	LeafHostMismatch    ID = "leaf_host_mismatch"
	LeafKeyUsage        ID = "leaf_key_usage"
	LeafNoServerAuth    ID = "leaf_no_server_auth"
	LeafEKUAbsent       ID = "leaf_eku_absent"
	WeakSignature       ID = "weak_signature"
	WeakKey             ID = "weak_key"
	Expired             ID = "expired"
	NotYetValid         ID = "not_yet_valid"
	ExpiresVerySoon     ID = "expires_very_soon"
	ExpiresSoon         ID = "expires_soon"
	MustStapleNoOCSP    ID = "must_staple_without_ocsp"
	NoRevocationURL     ID = "no_revocation_url"
	NoOCSPURL           ID = "no_ocsp_url"
	NoCRLURL            ID = "no_crl_url"
	NoCAIssuersURL      ID = "no_ca_issuers_url"
	KeyMismatch         ID = "key_mismatch"
	OCSPRevoked         ID = "ocsp_revoked"
	OCSPResponderFailed ID = "ocsp_responder_failed"
	CRLRevoked          ID = "crl_revoked"
	CRLFailed           ID = "crl_failed"
)

// Check is a group of findings that one test covers: the unit a CI
// system shows as one test case.
type Check string

// Checks, in the order they are reported.
const (
	CheckChain       Check = "chain"
	CheckNames       Check = "names"
	CheckUsage       Check = "usage"
	CheckSignature   Check = "signature"
	CheckKeyStrength Check = "key_strength"
	CheckValidity    Check = "validity"
	CheckMustStaple  Check = "must_staple"
	CheckRevocation  Check = "revocation"
	CheckKeyMatch    Check = "key_match"
	CheckOnline      Check = "online"
)

// AllChecks lists every Check in report order.
func AllChecks() []Check {
	return []Check{CheckChain, CheckNames, CheckUsage, CheckSignature, CheckKeyStrength,
		CheckValidity, CheckMustStaple, CheckRevocation, CheckKeyMatch, CheckOnline}
}

type idInfo struct {
	check       Check
	severity    Severity
	description string
}

// ids is the single table of findings: the severity and plain-words text
// every output shows, and what the README's findings table is tested
// against.
var ids = map[ID]idInfo{
	ChainWrongOrder:     {CheckChain, SeverityCritical, "the certificates are all there but not in order: each must be followed by its issuer, leaf first"},
	ChainGap:            {CheckChain, SeverityCritical, "a certificate is not issued by the next one nor by any other in the bundle: an intermediate is missing or an unrelated certificate is included"},
	ChainDuplicate:      {CheckChain, SeverityCritical, "the same certificate appears twice in the bundle"},
	ChainBadSignature:   {CheckChain, SeverityCritical, "a certificate names the next one as its issuer, but that certificate's key did not sign it or may not sign certificates"},
	ChainIncomplete:     {CheckChain, SeverityCritical, "the bundle holds only the leaf: clients that do not fetch intermediates will fail to build a chain"},
	ChainIncludesRoot:   {CheckChain, SeverityWarning, "the bundle includes a self-signed trust anchor: clients must already trust it, so sending it only adds bytes to every handshake"},
	LeafSelfSigned:      {CheckChain, SeverityCritical, "the leaf is self-signed, so no client trusts it and no CA can revoke it"},
	LeafIsCA:            {CheckUsage, SeverityCritical, "the first certificate is a CA certificate, not a server certificate"},
	LeafNoSAN:           {CheckNames, SeverityCritical, "the leaf has no DNS or IP subject alternative names; clients ignore the subject CN"},
	LeafHostMismatch:    {CheckNames, SeverityCritical, "the leaf does not cover a host name given with --host"},
	LeafKeyUsage:        {CheckUsage, SeverityCritical, "the leaf's key usage does not allow TLS: ECDSA and Ed25519 need digitalSignature, RSA needs digitalSignature or keyEncipherment"},
	LeafNoServerAuth:    {CheckUsage, SeverityCritical, "the leaf's extended key usage does not include serverAuth"},
	LeafEKUAbsent:       {CheckUsage, SeverityWarning, "the leaf has no extended key usage extension; the Baseline Requirements ask for serverAuth"},
	WeakSignature:       {CheckSignature, SeverityCritical, "a certificate is signed with MD2, MD5 or SHA-1, which clients reject"},
	WeakKey:             {CheckKeyStrength, SeverityCritical, "a certificate has an RSA key under 2048 bits, an EC key under P-256, or a DSA key"},
	Expired:             {CheckValidity, SeverityCritical, "a certificate has expired"},
	NotYetValid:         {CheckValidity, SeverityCritical, "a certificate's NotBefore is in the future"},
	ExpiresVerySoon:     {CheckValidity, SeverityCritical, "a certificate expires within the --crit threshold"},
	ExpiresSoon:         {CheckValidity, SeverityWarning, "a certificate expires within the --warn threshold"},
	MustStapleNoOCSP:    {CheckMustStaple, SeverityCritical, "the leaf is must-staple but names no OCSP responder, so no server can ever staple for it"},
	NoRevocationURL:     {CheckRevocation, SeverityCritical, "the leaf names neither an OCSP responder nor a CRL, and is not short-lived (--require any)"},
	NoOCSPURL:           {CheckRevocation, SeverityCritical, "the leaf names no OCSP responder (--require ocsp)"},
	NoCRLURL:            {CheckRevocation, SeverityCritical, "the leaf names no CRL distribution point (--require crl)"},
	NoCAIssuersURL:      {CheckRevocation, SeverityWarning, "the leaf has no AIA caIssuers URL, so clients cannot fetch a missing intermediate"},
	KeyMismatch:         {CheckKeyMatch, SeverityCritical, "the private key does not belong to the leaf"},
	OCSPRevoked:         {CheckOnline, SeverityCritical, "the leaf's OCSP responder says it is revoked (--online)"},
	OCSPResponderFailed: {CheckOnline, SeverityCritical, "the leaf's OCSP responder gave no valid answer (--online); the message carries the probe's reason"},
	CRLRevoked:          {CheckOnline, SeverityCritical, "a CRL lists the leaf, or a certificate above it, as revoked (--online)"},
	CRLFailed:           {CheckOnline, SeverityWarning, "a CRL named by the bundle could not be fetched or trusted (--online); the message carries the reason"},
}

// AllIDs lists every ID in report order.
func AllIDs() []ID {
	return []ID{
		ChainWrongOrder, ChainGap, ChainDuplicate, ChainBadSignature, ChainIncomplete, ChainIncludesRoot, LeafSelfSigned,
		LeafIsCA, LeafNoSAN, LeafHostMismatch, LeafKeyUsage, LeafNoServerAuth, LeafEKUAbsent,
		WeakSignature, WeakKey, Expired, NotYetValid, ExpiresVerySoon, ExpiresSoon, MustStapleNoOCSP,
		NoRevocationURL, NoOCSPURL, NoCRLURL, NoCAIssuersURL, KeyMismatch, OCSPRevoked, OCSPResponderFailed, CRLRevoked, CRLFailed,
	}
}

// Severity returns the ID's fixed severity.
func (id ID) Severity() Severity { return ids[id].severity }

// Check returns the check the ID belongs to.
func (id ID) Check() Check { return ids[id].check }

// Describe returns the ID in plain words.
func (id ID) Describe() string {
	if info, ok := ids[id]; ok {
		return info.description
	}
	return string(id)
}

// Finding is one thing wrong with a bundle: the closed ID and a message
// about this bundle's certificates.
type Finding struct {
	ID      ID
	Message string
}

// Severity is the finding's ID's severity.
func (f Finding) Severity() Severity { return f.ID.Severity() }

func (f Finding) String() string { return fmt.Sprintf("%s: %s", f.ID, f.Message) }
