package hostlimit

import (
	"context"
	"testing"
	"time"
)

func TestOneHostWhateverThePort(t *testing.T) {
	l := New(1)
	release, err := l.Acquire(context.Background(), "http://CA.example:8080/ocsp")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx, "http://ca.example:9090/crl"); err == nil {
		t.Error("a second port on the same host got a slot past the cap")
	}
	if r, err := l.Acquire(context.Background(), "http://other.example/"); err != nil {
		t.Error(err)
	} else {
		r()
	}
	release()
	if r, err := l.Acquire(context.Background(), "http://ca.example:9090/crl"); err != nil {
		t.Error(err)
	} else {
		r()
	}
}
