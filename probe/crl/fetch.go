package crl

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/httpphase"
)

// DefaultMaxBytes bounds a CRL body. Real CRLs reach tens of megabytes.
const DefaultMaxBytes = 64 << 20

// FetchOptions shape one download.
type FetchOptions struct {
	// Issuer is the certificate that issued the certificates the CRL
	// covers; the CRL must be signed by it.
	Issuer *x509.Certificate
	// MaxBytes caps the body; zero means DefaultMaxBytes.
	MaxBytes  int64
	UserAgent string
	Now       func() time.Time
	// Previous is the copy already held. Its validators make the request
	// conditional, and a 304 answer keeps it.
	Previous *CRL
}

func (o FetchOptions) withDefaults() FetchOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UserAgent == "" {
		o.UserAgent = "ocspwatch"
	}
	return o
}

// Timings are the phases of one download; a plain-HTTP distribution
// point has no TLS phase.
type Timings = httpphase.Timings

// FetchResult is one attempt to download one CRL. It is never modified
// after Fetch returns.
type FetchResult struct {
	URL        string
	FetchedAt  time.Time
	Timings    Timings
	HTTPStatus int
	// BodyBytes is the size of the body read; on a body over the limit,
	// the limit plus one.
	BodyBytes int64
	// NotModified is set when the server answered 304 and the previous
	// copy was kept.
	NotModified bool
	// CRL is the parsed copy: new, or the previous one on a 304. It is nil
	// when the attempt gave no usable copy; Problems then say why.
	CRL *CRL
	// Problems are about the attempt: reaching the server, the HTTP
	// status, the size and the parse. The CRL's own findings and its time
	// window are in CRL.Verdict.
	Problems []Problem
}

// Up is true when the attempt gave a parsed copy: an HTTP 200 that parsed,
// or a 304 that confirmed the previous copy.
func (r *FetchResult) Up() bool { return r.CRL != nil && len(r.Problems) == 0 }

// Fetch downloads the CRL at rawURL once, with no retry, and parses it. A
// URL that is not http:// (ldap://, https://, file://) is not an error but
// ReasonUnsupported: CRL distribution points are fetched over plain HTTP,
// and a CRL's integrity comes from its signature.
func Fetch(ctx context.Context, client *http.Client, rawURL string, opts FetchOptions) *FetchResult {
	opts = opts.withDefaults()
	res := &FetchResult{URL: rawURL, FetchedAt: opts.Now()}
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		res.Problems = []Problem{{ReasonUnsupported, fmt.Sprintf("distribution point %q is not a URL", rawURL)}}
		return res
	case u.Scheme != "http" || u.Host == "":
		res.Problems = []Problem{{ReasonUnsupported, fmt.Sprintf("distribution point scheme %q: only http:// is fetched", u.Scheme)}}
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		res.Problems = []Problem{{ReasonUnsupported, err.Error()}}
		return res
	}
	req.Header.Set("User-Agent", opts.UserAgent)
	if prev := opts.Previous; prev != nil {
		if prev.info.ETag != "" {
			req.Header.Set("If-None-Match", prev.info.ETag)
		}
		if prev.info.LastModified != "" {
			req.Header.Set("If-Modified-Since", prev.info.LastModified)
		}
	}

	trace := &httpphase.Trace{}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace.ClientTrace()))
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		res.Timings = trace.Timings(start, time.Now())
		res.Problems = []Problem{{transportReason(ctx, err), err.Error()}}
		return res
	}
	defer resp.Body.Close()
	res.HTTPStatus = resp.StatusCode
	switch {
	case resp.StatusCode == http.StatusNotModified && opts.Previous != nil:
		res.Timings = trace.Timings(start, time.Now())
		res.NotModified = true
		res.CRL = opts.Previous
		return res
	case resp.StatusCode != http.StatusOK:
		res.Timings = trace.Timings(start, time.Now())
		res.Problems = []Problem{{ReasonHTTPStatus, fmt.Sprintf("HTTP %d", resp.StatusCode)}}
		return res
	}
	body, err := readBody(resp, opts.MaxBytes)
	res.Timings = trace.Timings(start, time.Now())
	res.BodyBytes = int64(len(body))
	switch {
	case err != nil:
		res.Problems = []Problem{{transportReason(ctx, err), "read body: " + err.Error()}}
		return res
	case res.BodyBytes > opts.MaxBytes:
		res.Problems = []Problem{{ReasonTooLarge, fmt.Sprintf("body exceeds %d bytes", opts.MaxBytes)}}
		return res
	}
	crl, err := Parse(body, opts.Issuer)
	if err != nil {
		res.Problems = []Problem{{ReasonMalformed, err.Error()}}
		return res
	}
	res.CRL = crl.withValidators(resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
	return res
}

// readBody reads at most limit+1 bytes into one buffer of exactly the
// body's size, so a 20 MB CRL costs 20 MB (io.ReadAll's doubling would
// allocate about three times that). A Content-Length sizes the buffer at
// once, though only as a hint; without one the body is read in chunks
// that are joined at the end, for a peak of twice the body.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	body := io.LimitReader(resp.Body, limit+1)
	if n := resp.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, 0, n+1)
		for {
			if len(buf) == cap(buf) {
				// The server sent more than it announced.
				buf = slices.Grow(buf, readChunk)
			}
			m, err := body.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return buf, err
			}
		}
	}
	var chunks [][]byte
	total := 0
	for {
		chunk := make([]byte, readChunk)
		m, err := io.ReadFull(body, chunk)
		chunks = append(chunks, chunk[:m])
		total += m
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	buf := make([]byte, 0, total)
	for _, c := range chunks {
		buf = append(buf, c...)
	}
	return buf, nil
}

// readChunk is the unit a body of unknown length is read in.
const readChunk = 1 << 20

func transportReason(ctx context.Context, err error) Reason {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		ctx.Err() != nil, errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	}
	return ReasonUnreachable
}
