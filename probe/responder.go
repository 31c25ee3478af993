package probe

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/httpphase"
)

// Method is how a request is sent to a responder.
type Method string

// Methods. MethodAuto follows RFC 5019 §5: GET when the escaped request is
// under 255 bytes, POST otherwise.
const (
	MethodAuto Method = "auto"
	MethodGET  Method = "get"
	MethodPOST Method = "post"
)

// DefaultMaxBodyBytes bounds a responder's body; real responses are a few
// kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// maxGETLength is RFC 5019 §5's limit on a GET request: the whole URL,
// scheme, host, path and encoded request, at most 255 bytes; a longer
// request goes by POST.
const maxGETLength = 255

// ResponderRequest says which responder to ask about which certificate.
type ResponderRequest struct {
	URL          string
	Leaf, Issuer *x509.Certificate
	Method       Method
	// Hash is the CertID hash; SHA-1 when zero, as RFC 5019 expects.
	Hash  crypto.Hash
	Nonce bool
	// RequireNonce turns a response that ignores the nonce into a failure.
	RequireNonce bool
	MaxBodyBytes int64
	UserAgent    string
	// HostHeader, when set, replaces the Host header, for responders
	// behind a load balancer that routes by name (openssl ocsp -header).
	// The connection still goes to URL's host; through a forward proxy
	// the request-target, which the proxy goes by, names HostHeader too.
	HostHeader string
	// Proxy, when set, carries this query instead of the client's own
	// proxy setting: a target's proxy_url.
	Proxy  *url.URL
	Now    func() time.Time
	Policy VerifyPolicy
	// Dial is the network policy; Origin says who named URL.
	Dial   *DialPolicy
	Origin Origin
	// Timeout bounds a query the pool shares between callers, which runs
	// under the pool's context rather than any one caller's; zero means
	// DefaultQueryTimeout.
	Timeout time.Duration
}

// DefaultQueryTimeout bounds a shared responder query when the request
// names no timeout.
const DefaultQueryTimeout = 10 * time.Second

func (r ResponderRequest) withDefaults() ResponderRequest {
	if r.Method == "" {
		r.Method = MethodAuto
	}
	if r.MaxBodyBytes <= 0 {
		r.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.UserAgent == "" {
		r.UserAgent = "ocspwatch"
	}
	if r.Timeout <= 0 {
		r.Timeout = DefaultQueryTimeout
	}
	return r
}

// ResponderTimings are the phases of one responder query. Phases that did
// not happen (DNS for an IP, TLS for http) are zero.
type ResponderTimings = httpphase.Timings

// CacheInfo is what the responder told HTTP caches (RFC 5019 §6).
type CacheInfo struct {
	MaxAge       *time.Duration
	Expires      *time.Time
	ETag         string
	LastModified *time.Time
	// MaxAgePastNextUpdate flags a max-age that lets caches serve the
	// response after its NextUpdate, against RFC 5019 §6.2.
	MaxAgePastNextUpdate bool
}

// NonceState says what became of a nonce.
type NonceState string

// Nonce outcomes.
const (
	NonceNotSent  NonceState = "not_sent"
	NonceEchoed   NonceState = "echoed"
	NonceMissing  NonceState = "missing"
	NonceMismatch NonceState = "mismatch"
)

// ResponderResult is the outcome of one query to one responder URL. It
// is never changed once returned: a cached answer judged at a later time
// is the same value while its verdict holds, a new one once it changes.
type ResponderResult struct {
	URL       string
	Method    string
	FetchedAt time.Time
	// Cached is set when the politeness interval served an earlier answer.
	Cached        bool
	Timings       ResponderTimings
	HTTPStatus    int
	ContentType   string
	ContentTypeOK bool
	Cache         CacheInfo
	// ResponseStatus is set whenever the body parsed as an OCSPResponse.
	ResponseStatus ResponseStatus
	Response       *Verification
	// DER is the body of an HTTP 200 answer as received, for saving it
	// (`check --response-out`, like `openssl ocsp -respout`). An answer a
	// pool shares with callers other than the one that fetched it
	// (Cached) has none: it keeps what the verdict needs, not the bytes.
	DER   []byte
	Nonce NonceState
	// Up is true when the URL answered with a successful, well-formed
	// OCSP response, whatever it said and whether or not it verified.
	Up       bool
	Problems []Problem

	// transport holds the problems that do not change with time; the
	// verification's are judged again at each use.
	transport []Problem
	// judged: Problems holds the verdict of Response as it stands.
	judged bool
}

// Responder sends one query to one responder. It never retries: a probe
// is a measuring instrument.
func Responder(ctx context.Context, client *http.Client, req ResponderRequest) *ResponderResult {
	req = req.withDefaults()
	res := query(ctx, client, req)
	// The time window is judged when the answer is in, not when the
	// query started: a slow responder's answer may expire meanwhile.
	return res.At(req.Now())
}

func query(ctx context.Context, client *http.Client, req ResponderRequest) *ResponderResult {
	ctx = withProxyOverride(withDialScope(ctx, req.Dial, req.Origin), req.Proxy)
	res := &ResponderResult{URL: req.URL, Nonce: NonceNotSent}
	if req.Leaf == nil || req.Issuer == nil {
		res.addTransport(ReasonIssuerMissing, "the leaf and its issuer are both needed to build a request")
		return res
	}
	ocspReq, err := NewRequest(req.Leaf, req.Issuer, req.Hash, req.Nonce)
	if err != nil {
		res.addTransport(ReasonIssuerMissing, "build request: "+err.Error())
		return res
	}
	httpReq, err := newHTTPRequest(ctx, req.URL, ocspReq.DER, req.Method)
	if err != nil {
		res.addTransport(ReasonResponderURLInvalid, err.Error())
		return res
	}
	res.Method = httpReq.Method
	httpReq.Header.Set("User-Agent", req.UserAgent)
	if req.HostHeader != "" {
		httpReq.Host = req.HostHeader
	}

	trace := &httpphase.Trace{}
	httpReq = httpReq.WithContext(httptrace.WithClientTrace(httpReq.Context(), trace.ClientTrace()))
	start := time.Now()
	res.FetchedAt = req.Now()
	resp, err := client.Do(httpReq)
	if err != nil {
		res.Timings = trace.Timings(start, time.Now())
		res.addTransport(classifyTransport(ctx, err, trace), transportCause(err))
		return res
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, req.MaxBodyBytes+1))
	end := time.Now()
	res.Timings = trace.Timings(start, end)
	res.HTTPStatus = resp.StatusCode
	res.ContentType = resp.Header.Get("Content-Type")
	mediaType, _, _ := mime.ParseMediaType(res.ContentType)
	res.ContentTypeOK = mediaType == "application/ocsp-response"
	res.Cache = readCacheHeaders(resp.Header)
	switch {
	case err != nil:
		res.addTransport(classifyTransport(ctx, err, trace), "read body: "+err.Error())
		return res
	case int64(len(body)) > req.MaxBodyBytes:
		res.addTransport(ReasonResponderBodyTooLarge, fmt.Sprintf("body exceeds %d bytes", req.MaxBodyBytes))
		return res
	case resp.StatusCode != http.StatusOK:
		res.addTransport(ReasonResponderHTTPStatus, fmt.Sprintf("HTTP %d", resp.StatusCode))
		return res
	}

	res.DER = body
	v := verifyResponse(body, req.Leaf, req.Issuer, req.Now(), req.Policy)
	res.ResponseStatus = v.ResponseStatus
	if !res.ContentTypeOK {
		res.addTransport(ReasonResponderContentType, fmt.Sprintf("Content-Type %q", res.ContentType))
		if v.ResponseStatus == "" {
			// An HTML error page is explained by its Content-Type; calling
			// it malformed OCSP as well would count one fault twice.
			return res
		}
	}
	res.Response = v
	// A responder that answers for the wrong certificate or with a bad
	// signature is up but wrong: the failure reason says so.
	res.Up = v.wellFormed
	if res.Cache.MaxAge != nil && v.NextUpdate != nil {
		res.Cache.MaxAgePastNextUpdate = res.FetchedAt.Add(*res.Cache.MaxAge).After(*v.NextUpdate)
	}
	if ocspReq.Nonce != nil && v.ResponseStatus == StatusSuccessful {
		res.Nonce = checkNonce(ocspReq.Nonce, v.nonce)
		switch {
		case res.Nonce == NonceMismatch:
			res.addTransport(ReasonNonceMismatch, "")
		case res.Nonce == NonceMissing && req.RequireNonce:
			res.addTransport(ReasonNonceMissing, "")
		}
	}
	return res
}

func (r *ResponderResult) addTransport(reason Reason, detail string) {
	r.transport = append(r.transport, Problem{Reason: reason, Detail: detail})
}

// At returns the result with its verification judged as of now: r
// itself when that verdict is the one r already holds, so the targets
// that share an answer share one result.
func (r *ResponderResult) At(now time.Time) *ResponderResult {
	var v *Verification
	if r.Response != nil {
		v = r.Response.At(now)
	}
	if r.judged && v == r.Response {
		return r
	}
	c := *r
	c.judged = true
	c.Problems = append([]Problem(nil), r.transport...)
	if v != nil {
		c.Response = v
		c.Problems = append(c.Problems, v.problems(responseReasons, ReasonResponseRevoked, ReasonResponseUnknown)...)
	}
	return &c
}

// served returns r marked as served again (Cached) or not, copying it
// only when the mark changes.
func (r *ResponderResult) served(cached bool) *ResponderResult {
	if r.Cached == cached {
		return r
	}
	c := *r
	c.Cached = cached
	return &c
}

func checkNonce(sent, echoed []byte) NonceState {
	if echoed == nil {
		return NonceMissing
	}
	var inner []byte
	if _, err := asn1.Unmarshal(echoed, &inner); err == nil && bytes.Equal(inner, sent) {
		return NonceEchoed
	}
	// Some older responders echo the bare bytes without the inner
	// OCTET STRING; that still proves freshness.
	if bytes.Equal(echoed, sent) {
		return NonceEchoed
	}
	return NonceMismatch
}

func newHTTPRequest(ctx context.Context, base string, der []byte, method Method) (*http.Request, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(base) > MaxURLLength {
		return nil, fmt.Errorf("responder URL %q is not an http(s) URL of at most %d bytes", base, MaxURLLength)
	}
	if method != MethodPOST {
		if get := getURL(u, der); method == MethodGET || len(get) <= maxGETLength {
			return http.NewRequestWithContext(ctx, http.MethodGet, get, nil)
		}
	}
	u.Fragment, u.RawFragment = "", ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(der))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	return req, nil
}

// getURL appends the URL-encoded base64 request to the responder URL's
// path (RFC 6960 Appendix A.1), with exactly one slash between them; a
// query string in the responder URL stays a query string, after the
// request. '+', '/' and '=' are percent-encoded so no server can read
// them as anything but the request's bytes.
func getURL(base *url.URL, der []byte) string {
	u := *base
	b64 := base64.StdEncoding.EncodeToString(der)
	u.RawPath = strings.TrimRight(u.EscapedPath(), "/") + "/" + url.QueryEscape(b64)
	u.Path = strings.TrimRight(u.Path, "/") + "/" + b64
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// transportCause is err without the wrappers that repeat the request:
// *url.Error prints the method and the whole GET URL, *net.OpError "dial
// tcp". The dialed address stays, since a name may resolve to several.
func transportCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Addr != nil {
		return op.Addr.String() + ": " + netCause(op).Error()
	}
	return netCause(err).Error()
}

func classifyTransport(ctx context.Context, err error, trace *httpphase.Trace) Reason {
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var denied *AddressDeniedError
	switch {
	case errors.As(err, &denied):
		return ReasonAddressDenied
	case errors.Is(err, errTooManyRedirects):
		return ReasonResponderRedirects
	case isTimeout(ctx, err):
		return ReasonResponderTimeout
	case errors.As(err, &dnsErr):
		return ReasonResponderDNS
	case errors.As(err, &certErr), errors.As(err, &recordErr), trace.InTLS():
		return ReasonResponderTLS
	}
	return ReasonResponderConnect
}

const maxMaxAgeSeconds = int64(math.MaxInt64 / time.Second)

func readCacheHeaders(h http.Header) CacheInfo {
	var c CacheInfo
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(directive), "=")
		if !ok || !strings.EqualFold(name, "max-age") {
			continue
		}
		if secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64); err == nil && secs >= 0 {
			// A max-age past what a Duration holds (292 years) is capped
			// there rather than wrapping to a negative value.
			d := time.Duration(min(secs, maxMaxAgeSeconds)) * time.Second
			c.MaxAge = &d
		}
	}
	if t, err := http.ParseTime(h.Get("Expires")); err == nil {
		c.Expires = &t
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		c.LastModified = &t
	}
	c.ETag = h.Get("ETag")
	return c
}
