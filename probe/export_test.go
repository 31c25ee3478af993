package probe

import "golang.org/x/crypto/ocsp"

var ocspParseRequest = ocsp.ParseRequest
