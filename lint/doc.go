// Package lint checks certificate bundles as they are deployed (a
// fullchain.pem, a chain plus its key) before they reach a server: chain
// order, the leaf's names, usages, algorithms and validity, its revocation
// fields under a policy, and that the private key belongs to the leaf.
//
// It is pure: bundles come in parsed, the time is passed in, and every
// problem comes out as a Finding with a closed ID and a fixed severity.
// The one networked check, asking the leaf's OCSP responders, is run by
// the caller through probe.RunTarget; Run only maps that report to
// findings, so `ocspwatch lint --online` and `ocspwatch check --cert`
// share one implementation.
package lint
