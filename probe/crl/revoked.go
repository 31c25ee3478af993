package crl

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math/big"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// NoReasonCode is the reason Lookup returns for an entry without a
// reasonCode extension; RFC 5280 §5.3.1 then means "unspecified", but the
// CRL did not say so and the checker does not invent it.
const NoReasonCode = -1

// revokedSet is the compact form of revokedCertificates: every serial's
// DER INTEGER content, back to back in one arena in the CRL's order, and
// an index sorted by those bytes. Sixteen bytes per entry plus the serial
// itself, against several hundred for an x509.RevocationListEntry.
type revokedSet struct {
	serials []byte
	entries []revokedEntry
}

type revokedEntry struct {
	at     int64 // revocation time, Unix seconds
	off    uint32
	n      uint8
	reason int8
}

func (s *revokedSet) serial(e revokedEntry) []byte {
	return s.serials[e.off : e.off+uint32(e.n)]
}

func (s *revokedSet) sort() {
	slices.SortFunc(s.entries, func(a, b revokedEntry) int {
		return compareSerials(s.serial(a), s.serial(b))
	})
}

func (s *revokedSet) len() int { return len(s.entries) }

func (s *revokedSet) retainedBytes() int64 {
	return int64(cap(s.serials)) + int64(cap(s.entries))*int64(unsafe.Sizeof(revokedEntry{}))
}

// Lookup says whether serial is listed, and if so when it was revoked and
// with which reasonCode (NoReasonCode when the entry has none). It answers
// from the list whatever the CRL's Verdict; use Check for a judged answer.
func (c *CRL) Lookup(serial *big.Int) (revoked bool, at time.Time, reason int) {
	if serial == nil {
		return false, time.Time{}, NoReasonCode
	}
	key := serialContent(serial)
	s := &c.revoked
	i, found := slices.BinarySearchFunc(s.entries, key, func(e revokedEntry, k []byte) int {
		return compareSerials(s.serial(e), k)
	})
	if !found {
		return false, time.Time{}, NoReasonCode
	}
	e := s.entries[i]
	return true, time.Unix(e.at, 0).UTC(), int(e.reason)
}

// compareSerials orders serials as bytes.Compare does, but decides most
// pairs on their first eight bytes as one integer: real serials are random
// from their first byte, and sorting half a million of them spends most of
// its time here.
func compareSerials(a, b []byte) int {
	if len(a) >= 8 && len(b) >= 8 {
		if x, y := binary.BigEndian.Uint64(a), binary.BigEndian.Uint64(b); x != y {
			return cmp.Compare(x, y)
		}
	}
	return bytes.Compare(a, b)
}

// serialContent is serial's DER INTEGER content, the form the arena holds.
func serialContent(serial *big.Int) []byte {
	var b cryptobyte.Builder
	b.AddASN1BigInt(serial)
	der := cryptobyte.String(b.BytesOrPanic())
	var content cryptobyte.String
	der.ReadASN1(&content, cbasn1.INTEGER)
	return content
}
